# The student alone of the COCO GFL pair (the baseline of every gain in a COCO benchmark):
# mmdet's GFL R-50 1x with the pair's training settings (gradient clipping 35, checked datasets,
# atomic checkpoints; configs/_base_/pairs/gfl-r101-ms2x_gfl-r50_1x_coco.py), so that it differs
# from the distilled students only by the distillation.
_base_ = ['mmdet::gfl/gfl_r50_fpn_1x_coco.py']
custom_imports = dict(imports=['tid_mmdet'], allow_failed_imports=False)
optim_wrapper = dict(clip_grad=dict(max_norm=35, norm_type=2))
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'))
train_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))
val_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))
test_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))
