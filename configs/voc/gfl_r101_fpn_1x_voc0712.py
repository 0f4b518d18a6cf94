# GFL R-101 FPN on Pascal VOC 07+12, the teacher of the VOC pair (the mmdet zoo has no VOC GFL:
# train it first, `python tools/train.py configs/voc/gfl_r101_fpn_1x_voc0712.py`, which writes
# work_dirs/gfl_r101_fpn_1x_voc0712/epoch_4.pth, the pair's teacher_ckpt). Student's recipe.
_base_ = ['./gfl_r50_fpn_1x_voc0712.py']
model = dict(
    backbone=dict(
        depth=101, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet101')))
