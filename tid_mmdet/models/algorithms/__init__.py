from .forward_teacher_distill import ForwardTeacherDistill, NeckTeacherDistill

__all__ = ['ForwardTeacherDistill', 'NeckTeacherDistill']
