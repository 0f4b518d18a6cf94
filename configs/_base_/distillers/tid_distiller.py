# The TID distiller of every TID config (a variable, merged into `model.distiller` by children).
# Recorders are MMRazor's own; the three TID modules are configured inside `loss_tid`.
tid_distiller = dict(
    type='DenseHeadDistiller',
    # task-significance recorders: neck features (one tensor per FPN level), the dense head's
    # per-level outputs (cls_scores, bbox_preds[, centerness]) and, from the student only, the
    # batch (its DetDataSamples carry the GT instances and the image metas)
    student_recorders=dict(
        fpn=dict(type='ModuleOutputs', source='neck'),
        head=dict(type='ModuleOutputs', source='bbox_head'),
        batch=dict(type='ModuleInputs', source='')),
    teacher_recorders=dict(
        fpn=dict(type='ModuleOutputs', source='neck'),
        head=dict(type='ModuleOutputs', source='bbox_head')),
    distill_losses=dict(
        loss_tid=dict(
            type='TIDLoss',
            # DIEM: Score_r (IoU band) x Score_c (class right?) per location, teacher and student
            diem=dict(tasks='both', thresholds='detector', pos_thr=0.5, neg_thr=0.4),
            # LDAM: key areas (teacher score >= 3.0), weak areas (teacher - student > 0)
            ldam=dict(key_thr=None, weak_delta=0.0, use_weak_areas=True),
            # SFDM: high = key & weak, medium = key xor weak, low = rest
            sfdm=dict(region_rule='and_xor'),
            # the feature loss: standardised features, MSE per location weighted by its
            # region and averaged over each level; high emphasised, low attenuated (paper), in
            # FGD's foreground : background ratio 2 : 1 (docs/method.md, SFDM)
            region_weights=(2.0, 1.0, 0.5),
            region_norm='level',
            normalize=True,
            attention=False)),
    loss_forward_mappings=dict(
        loss_tid=dict(
            feats_S=dict(from_student=True, recorder='fpn'),
            feats_T=dict(from_student=False, recorder='fpn'),
            head_outputs_S=dict(from_student=True, recorder='head'),
            head_outputs_T=dict(from_student=False, recorder='head'),
            data_samples=dict(from_student=True, recorder='batch', data_idx=1))))

# TID's FGD form (docs/method.md, "SFDM"): its regions inside FGD's raw-feature focal loss, for
# ImageNet-initialised detectors whose FPN features have the scale FGD's weights were tuned for.
# Weights: high 2x FGD's foreground alpha, medium = alpha, low = FGD's background beta; FGD's
# attention (T 0.5) and attention-transfer gamma. Select it with
# model.distiller.distill_losses.loss_tid=dict(tid_distiller_fgd_form) (configs/tid/tid-fgdform_*).
tid_distiller_fgd_form = dict(
    normalize=False,
    attention=True,
    channel_reduction='sum',
    region_norm='region',
    region_weights=(2e-3, 1e-3, 5e-4),
    temp=0.5,
    gamma=5e-4)
