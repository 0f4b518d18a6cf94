# PKD (MMRazor's PKDLoss) on the synthetic two-stage pair, as MMRazor's Faster R-CNN config
# (pkd_fpn_faster-rcnn_r101_faster-rcnn_r50_2x_coco.py): one PKDLoss of weight 6 on each
# of the FPN levels 0-3.
_base_ = [
    '../_base_/pairs/faster-rcnn-r50w32_faster-rcnn-r18w16_800it_synthetic.py',
    '../_base_/distillers/pkd_distiller.py'
]
model = dict(
    _base_.distill_model,
    _delete_=True,
    type='NeckTeacherDistill',
    distiller=dict(
        _base_.pkd_distiller,
        distill_losses={
            f'loss_pkd_fpn{i}': dict(type='PKDLoss', loss_weight=6.0)
            for i in range(4)
        },
        loss_forward_mappings={
            f'loss_pkd_fpn{i}': dict(
                preds_S=dict(from_student=True, recorder='fpn', data_idx=i),
                preds_T=dict(from_student=False, recorder='fpn', data_idx=i))
            for i in range(4)
        }))
