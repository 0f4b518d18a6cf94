# FGD with its `init_student` practice: after initialisation the student's neck and head take
# the teacher's weights wherever name and shape agree (here: FPN output convs and the whole
# head; the FPN lateral convs differ in width and keep their own). Otherwise as fgd_*.
_base_ = ['./fgd_gfl-r50w32_gfl-r18w16_800it_synthetic.py']
model = dict(init_student=True)
