from .efficientnet_lite import EfficientNetLite, LiteMBConv, lite_weights_path, load_lite_state_dict

__all__ = ['EfficientNetLite', 'LiteMBConv', 'lite_weights_path', 'load_lite_state_dict']
