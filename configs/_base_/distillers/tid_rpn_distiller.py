# TID on a two-stage detector (Faster R-CNN and other mmdet TwoStageDetectors with an RPN): the
# task significance of every FPN location comes from the RPN, the detector's dense stage
# (objectness = classification, anchor deltas = regression, the RPN assigner's own IoU criteria;
# docs/method.md, "Two-stage detectors"). Everything else is tid_distiller's.
_base_ = ['./tid_distiller.py']
tid_rpn_distiller = dict(
    _base_.tid_distiller,
    student_head='rpn_head',
    teacher_head='rpn_head',
    student_recorders=dict(
        fpn=dict(type='ModuleOutputs', source='neck'),
        head=dict(type='ModuleOutputs', source='rpn_head'),
        batch=dict(type='ModuleInputs', source='')),
    teacher_recorders=dict(
        fpn=dict(type='ModuleOutputs', source='neck'),
        head=dict(type='ModuleOutputs', source='rpn_head')))
