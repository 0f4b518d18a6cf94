# PKD (MMRazor's PKDLoss) on COCO with RTMDet: RTMDet-L -> RTMDet-S (the pair file).
# The CSPNeXtPAFPN necks are 256 (teacher) and 128 (student) channels wide: one 1x1 conv
# connector per level (MMRazor's ConvModuleConnector, no norm or activation) maps the student's
# level to the teacher's width, and one PKDLoss per level (weight 6 each, as the tuple loss of
# pkd_distiller.py sums its levels). Ours: no published PKD setting for RTMDet. Not run here.
_base_ = ['../_base_/pairs/rtmdet-l_rtmdet-s_300e_coco.py', '../_base_/distillers/pkd_distiller.py']
model = dict(
    _base_.distill_model,
    _delete_=True,
    type='NeckTeacherDistill',
    distiller=dict(
        _base_.pkd_distiller,
        connectors={
            f'fpn{i}_align': dict(
                type='ConvModuleConnector',
                in_channel=128,
                out_channel=256,
                kernel_size=1,
                norm_cfg=None,
                act_cfg=None)
            for i in range(3)
        },
        distill_losses={
            f'loss_pkd_fpn{i}': dict(type='PKDLoss', loss_weight=6.0)
            for i in range(3)
        },
        loss_forward_mappings={
            f'loss_pkd_fpn{i}': dict(
                preds_S=dict(
                    from_student=True, recorder='fpn', data_idx=i, connector=f'fpn{i}_align'),
                preds_T=dict(from_student=False, recorder='fpn', data_idx=i))
            for i in range(3)
        }))
