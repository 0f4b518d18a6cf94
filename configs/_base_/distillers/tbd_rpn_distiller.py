# TBD (our reconstruction) on a two-stage detector: Harmony and task-decoupled feature
# distillation read the RPN, the detector's dense stage (as tid_rpn_distiller).
_base_ = ['./tbd_distiller.py']
tbd_rpn_distiller = dict(
    _base_.tbd_distiller,
    student_head='rpn_head',
    teacher_head='rpn_head',
    student_recorders=dict(
        fpn=dict(type='ModuleOutputs', source='neck'),
        head=dict(type='ModuleOutputs', source='rpn_head'),
        batch=dict(type='ModuleInputs', source='')),
    teacher_recorders=dict(
        fpn=dict(type='ModuleOutputs', source='neck'),
        head=dict(type='ModuleOutputs', source='rpn_head')))
