# The synthetic scenes drawn at 160 px (data/synthetic160, made on first use by
# tools/synthetic/train_reference.py, or by
#   python tools/dataset_converters/generate_synthetic_data.py --out-dir data/synthetic160
#       --img-size 160):
# the same generator, classes and image counts as synthetic_detection.py at 256 px, with objects
# scaled down too (most boxes are COCO-small), so a step costs about a third as much.
_base_ = ['./synthetic_detection.py']
data_root = 'data/synthetic160/'
img_scale = (160, 160)

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=_base_.backend_args),
    dict(type='LoadAnnotations', with_bbox=True),
    # a same-size Resize keeps `scale_factor` in the metas
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=_base_.backend_args),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
train_dataloader = dict(dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val.json')
test_evaluator = val_evaluator
