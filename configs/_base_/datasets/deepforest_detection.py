# DeepForest tree crowns: real aerial RGB photos (NEON, 10 cm/px) cut into 256 px COCO tiles by
# `python -m tools.dataset_converters.deepforest_to_coco --out data/deepforest --download`.
# One class. Train and val tiles come from spatially apart parts of the photos (a one-tile gap);
# the val set is small (25 tiles, ~250 boxes): report mAP with a bootstrap interval
# (tid_mmdet.evaluation.bootstrap_map, tools/analysis_tools/bootstrap_map.py).
# mmdet's CocoDataset that logs the annotations it drops and refuses to be empty (tid_mmdet)
dataset_type = 'CheckedCocoDataset'
data_root = 'data/deepforest/'
classes = ('tree', )
metainfo = dict(classes=classes)
img_scale = (256, 256)  # the converter's tile size: this Resize keeps the tiles as they are
backend_args = None

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True),
    # a same-size Resize keeps `scale_factor` in the metas
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    # seen from above, a vertical flip is as natural as a horizontal one (25 % each)
    dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/instances_train.json',
        data_prefix=dict(img='train/'),
        # meadow tiles without a crown are left out of training
        filter_cfg=dict(filter_empty_gt=True, min_size=1),
        pipeline=train_pipeline,
        backend_args=backend_args))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/instances_val.json',
        data_prefix=dict(img='val/'),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = val_dataloader

val_evaluator = dict(
    type='CocoMetric',
    ann_file=data_root + 'annotations/instances_val.json',
    metric='bbox',
    format_only=False,
    backend_args=backend_args)
test_evaluator = val_evaluator
