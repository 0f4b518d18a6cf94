from .head_teacher_distill import HeadTeacherDistill

__all__ = ['HeadTeacherDistill']
