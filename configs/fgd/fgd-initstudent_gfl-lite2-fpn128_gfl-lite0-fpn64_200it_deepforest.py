# FGD with its `init_student` practice on the real-photo pair (DeepForest): after
# initialisation the student's neck and head take the teacher's weights wherever name and shape
# agree. The student's neck and head are half as wide as the teacher's (64 vs 128 channels), so
# only 8 of their 38 tensors agree: the two output convs' biases, the five Scale factors and
# the DFL projection (logged at start-up as "init_student: copied 8 teacher tensors").
# Otherwise as fgd_*.
_base_ = ['./fgd_gfl-lite2-fpn128_gfl-lite0-fpn64_200it_deepforest.py']
model = dict(init_student=True)
