# GFL R-50 FPN on Pascal VOC 07+12 (trainval; test on VOC2007 test), the student of the VOC pair:
# mmdet's VOC recipe (configs/pascal_voc/retinanet_r50_fpn_1x_voc0712.py: the training set is
# repeated 3 times, 4 epochs = 12 passes, lr 0.01 dropped at epoch 3). TID's paper also evaluates
# on VOC; its VOC detectors and schedule are not public (docs/method.md): this recipe is ours.
_base_ = [
    '../_base_/models/gfl_r50_fpn.py', 'mmdet::_base_/datasets/voc0712.py',
    'mmdet::_base_/default_runtime.py'
]
custom_imports = dict(imports=['tid_mmdet'], allow_failed_imports=False)
model = dict(bbox_head=dict(num_classes=20))
max_epochs = 4
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[3], gamma=0.1)
]
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001))
auto_scale_lr = dict(enable=False, base_batch_size=16)
