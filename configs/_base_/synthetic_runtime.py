_base_ = 'mmdet::_base_/default_runtime.py'
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    # mmengine's CheckpointHook with atomic saving and checked resuming (README, "Faults")
    checkpoint=dict(
        type='AtomicCheckpointHook', by_epoch=False, interval=200, max_keep_ckpts=2,
        save_last=True))
log_processor = dict(type='LogProcessor', window_size=10, by_epoch=False)
randomness = dict(seed=0)
custom_imports = dict(imports=['tid_mmdet'], allow_failed_imports=False)
