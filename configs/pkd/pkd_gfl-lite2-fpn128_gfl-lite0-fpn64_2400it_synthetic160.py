# PKD (MMRazor's PKDLoss, weight 6) on the 160 px ImageNet-initialised synthetic pair: one 1x1 conv
# connector per level (MMRazor's ConvModuleConnector, 64 -> 128) and one PKDLoss per level.
_base_ = [
    '../_base_/pairs/gfl-lite2-fpn128_gfl-lite0-fpn64_2400it_synthetic160.py',
    '../_base_/distillers/pkd_distiller.py'
]
model = dict(
    _base_.distill_model,
    _delete_=True,
    type='NeckTeacherDistill',
    distiller=dict(
        _base_.pkd_distiller,
        connectors={
            f'fpn{i}_align': dict(
                type='ConvModuleConnector',
                in_channel=64,
                out_channel=128,
                kernel_size=1,
                norm_cfg=None,
                act_cfg=None)
            for i in range(5)
        },
        distill_losses={
            f'loss_pkd_fpn{i}': dict(type='PKDLoss', loss_weight=6.0)
            for i in range(5)
        },
        loss_forward_mappings={
            f'loss_pkd_fpn{i}': dict(
                preds_S=dict(
                    from_student=True, recorder='fpn', data_idx=i, connector=f'fpn{i}_align'),
                preds_T=dict(from_student=False, recorder='fpn', data_idx=i))
            for i in range(5)
        }))
