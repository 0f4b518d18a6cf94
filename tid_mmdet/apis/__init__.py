"""Python entry points: the distilled student as a plain mmdet detector."""
from .student import (check_checkpoint_fits_config, checkpoint_kind, init_student,
                      is_distillation_config, load_checkpoint_file, student_checkpoint,
                      student_config)

__all__ = [
    'check_checkpoint_fits_config', 'checkpoint_kind', 'init_student', 'is_distillation_config',
    'load_checkpoint_file', 'student_checkpoint', 'student_config'
]
