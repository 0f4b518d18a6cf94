# Faster R-CNN detectors sized for 2 CPU cores and the 256 px synthetic scenes: the two-stage
# pair of the synthetic benchmark (issue "any mmdet pair"). Same backbones, widths and training
# style as the GFL pair (gfl_fpn96_synthetic.py): ResNet-18 (base width 16) student, ResNet-50
# (base width 32) teacher, FPN 96 ch, trained from scratch. Anchors and RoI sizes are scaled to
# the 6-128 px objects: anchor scale 2 (8-128 px over strides 4-64), RoI levels by finest_scale 28.
_base_ = ['./gfl_fpn96_synthetic.py']
student_model = dict(
    _delete_=True,  # not the GFL student of the base file
    type='FasterRCNN',
    data_preprocessor=_base_.student_model.data_preprocessor,
    backbone=_base_.student_model.backbone,
    neck=dict(type='FPN', in_channels=[16, 32, 64, 128], out_channels=96, num_outs=5),
    rpn_head=dict(
        type='RPNHead',
        in_channels=96,
        feat_channels=96,
        anchor_generator=dict(
            type='AnchorGenerator', scales=[2], ratios=[0.5, 1.0, 2.0], strides=[4, 8, 16, 32, 64]),
        bbox_coder=dict(
            type='DeltaXYWHBBoxCoder',
            target_means=[.0, .0, .0, .0],
            target_stds=[1.0, 1.0, 1.0, 1.0]),
        loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0),
        loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
    roi_head=dict(
        type='StandardRoIHead',
        bbox_roi_extractor=dict(
            type='SingleRoIExtractor',
            roi_layer=dict(type='RoIAlign', output_size=7, sampling_ratio=0),
            out_channels=96,
            featmap_strides=[4, 8, 16, 32],
            finest_scale=28),
        bbox_head=dict(
            type='Shared2FCBBoxHead',
            in_channels=96,
            fc_out_channels=256,
            roi_feat_size=7,
            num_classes=_base_.num_classes,
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder',
                target_means=[0., 0., 0., 0.],
                target_stds=[0.1, 0.1, 0.2, 0.2]),
            reg_class_agnostic=False,
            loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
            loss_bbox=dict(type='L1Loss', loss_weight=1.0))),
    # mmdet's faster-rcnn_r50_fpn training and test settings, fewer proposals for 256 px images
    train_cfg=dict(
        rpn=dict(
            assigner=dict(
                type='MaxIoUAssigner',
                pos_iou_thr=0.7,
                neg_iou_thr=0.3,
                min_pos_iou=0.3,
                match_low_quality=True,
                ignore_iof_thr=-1),
            sampler=dict(
                type='RandomSampler',
                num=256,
                pos_fraction=0.5,
                neg_pos_ub=-1,
                add_gt_as_proposals=False),
            allowed_border=-1,
            pos_weight=-1,
            debug=False),
        rpn_proposal=dict(
            nms_pre=1000, max_per_img=500, nms=dict(type='nms', iou_threshold=0.7),
            min_bbox_size=0),
        rcnn=dict(
            assigner=dict(
                type='MaxIoUAssigner',
                pos_iou_thr=0.5,
                neg_iou_thr=0.5,
                min_pos_iou=0.5,
                match_low_quality=False,
                ignore_iof_thr=-1),
            sampler=dict(
                type='RandomSampler',
                num=256,
                pos_fraction=0.25,
                neg_pos_ub=-1,
                add_gt_as_proposals=True),
            pos_weight=-1,
            debug=False)),
    test_cfg=dict(
        rpn=dict(
            nms_pre=500, max_per_img=300, nms=dict(type='nms', iou_threshold=0.7), min_bbox_size=0),
        rcnn=dict(score_thr=0.05, nms=dict(type='nms', iou_threshold=0.5), max_per_img=100)))
teacher_model = dict(
    student_model,
    backbone=_base_.teacher_model.backbone,
    neck=dict(student_model['neck'], in_channels=[128, 256, 512, 1024]))
