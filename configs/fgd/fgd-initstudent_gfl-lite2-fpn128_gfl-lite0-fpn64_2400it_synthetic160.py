# FGD with its `init_student` practice on the 160 px ImageNet-initialised pair: after
# initialisation the student's neck and head take the teacher's weights wherever name and shape
# agree. The student's neck and head are half as wide as the teacher's (64 vs 128 channels), so
# only 8 of their 38 tensors agree: the two output convs' biases, the five Scale factors and
# the DFL projection (logged at start-up as "init_student: copied 8 teacher tensors").
# Otherwise as fgd_*.
_base_ = ['./fgd_gfl-lite2-fpn128_gfl-lite0-fpn64_2400it_synthetic160.py']
model = dict(init_student=True)
