from .synthetic_scenes import SYNTHETIC_CLASSES, generate_synthetic_coco

__all__ = ['SYNTHETIC_CLASSES', 'generate_synthetic_coco']
