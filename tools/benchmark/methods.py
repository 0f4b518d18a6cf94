"""The teacher-student pairs the benchmark knows, the methods it compares on each, and their
configs.

A pair is a teacher config, a student-alone config and the suffix of its method configs
(``configs/<method dir>/<method>_<pair>.py``); a method exists on a pair when its config does.
"""
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, NamedTuple, Tuple

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


class Pair(NamedTuple):
    """A benchmark pair: the teacher's config, the student-alone config, the data.

    A teacher is trained once by ``train_reference`` (the synthetic and DeepForest pairs), or,
    ``pretrained_teacher``, evaluated once with ``tools/test.py`` from the checkpoint its pair
    base names (``configs/_base_/pairs/<pair>.py``'s ``teacher_ckpt``: COCO pairs, mmdet's
    model zoo).
    """
    teacher: str
    student: str
    label: str
    data_root: str = 'data/synthetic'
    pretrained_teacher: bool = False
    # iteration-based schedules (synthetic, DeepForest: --iters, --quick apply) or epochs (COCO)
    by_iter: bool = True
    # extras (``EXTRA_CONFIGS``) that this pair compares as methods: swept, run on every seed
    extra_methods: Tuple[str, ...] = ()


PAIRS = OrderedDict([
    # the embedded default: from-scratch GFL (its report: docs/benchmarks_from_scratch.md)
    ('gfl-r50w32_gfl-r18w16_800it_synthetic',
     Pair('configs/synthetic/gfl_r50w32_fpn96_3200it_synthetic.py',
          'configs/synthetic/gfl_r18w16_fpn96_800it_synthetic.py',
          'synthetic scenes, GFL R-50 w32 teacher -> GFL R-18 w16 student, from scratch')),
    # ImageNet-initialised backbones (issue 14's regime): the lead pair, scenes at 160 px
    ('gfl-lite2-fpn128_gfl-lite0-fpn64_2400it_synthetic160',
     Pair(
         'configs/synthetic/gfl_lite2_fpn128_3200it_synthetic160.py',
         'configs/synthetic/gfl_lite0_fpn64_2400it_synthetic160.py',
         'synthetic scenes at 160 px, GFL EfficientNet-Lite2 teacher -> GFL Lite0 student, '
         'ImageNet weights',
         data_root='data/synthetic160',
         extra_methods=('fgd-initstudent', ))),  # issue 14: FGD also with init_student
    # the two-stage pair: TID on the RPN
    ('faster-rcnn-r50w32_faster-rcnn-r18w16_800it_synthetic',
     Pair('configs/synthetic/faster-rcnn_r50w32_fpn96_3200it_synthetic.py',
          'configs/synthetic/faster-rcnn_r18w16_fpn96_800it_synthetic.py',
          'synthetic scenes, Faster R-CNN R-50 w32 teacher -> R-18 w16 student, from scratch')),
    # real photos (DeepForest tree crowns), the ImageNet-initialised pair's detectors, one class
    ('gfl-lite2-fpn128_gfl-lite0-fpn64_200it_deepforest',
     Pair(
         'configs/deepforest/gfl_lite2_fpn128_1600it_deepforest.py',
         'configs/deepforest/gfl_lite0_fpn64_200it_deepforest.py',
         'DeepForest tree crowns (real aerial photos), GFL EfficientNet-Lite2 teacher -> GFL '
         'Lite0 student, ImageNet weights',
         data_root='data/deepforest',
         extra_methods=('fgd-initstudent', ))),
    # COCO on GPUs (--launcher pytorch|slurm --gpus N): the model-zoo teacher is evaluated, not
    # trained; the student alone and every method train the pair's 1x schedule
    ('gfl-r101-ms2x_gfl-r50_1x_coco',
     Pair(
         'configs/coco/gfl_r101_fpn_ms-2x_coco.py',
         'configs/coco/gfl_r50_fpn_1x_coco.py',
         'COCO 2017, GFL R-101 ms-2x teacher (mmdet model zoo) -> GFL R-50 1x student',
         data_root='data/coco',
         pretrained_teacher=True,
         by_iter=False)),
])
PAIR = next(iter(PAIRS))
TEACHER, STUDENT = PAIRS[PAIR].teacher, PAIRS[PAIR].student

# method -> config pattern; 'student' is the student alone (the baseline of every gain)
METHOD_CONFIGS = OrderedDict([
    ('tid', 'configs/tid/tid_{pair}.py'),
    ('fgd', 'configs/fgd/fgd_{pair}.py'),
    ('crosskd', 'configs/crosskd/crosskd_{pair}.py'),
    ('tbd', 'configs/tbd/tbd_{pair}.py'),
    ('pkd', 'configs/pkd/pkd_{pair}.py'),
    ('ld', 'configs/ld/ld_{pair}.py'),
    ('tid-crosskd', 'configs/tid_crosskd/tid-crosskd_{pair}.py'),
])
# TID's ablations, each element issue 13 asks to measure: balancing tasks, detector thresholds,
# learning dynamics (the paper's switches), the region weights and the loss form
ABLATION_CONFIGS = OrderedDict([
    ('tid-clsonly', 'configs/tid/ablations/tid-clsonly_{pair}.py'),
    ('tid-regonly', 'configs/tid/ablations/tid-regonly_{pair}.py'),
    ('tid-fixedthr', 'configs/tid/ablations/tid-fixedthr_{pair}.py'),
    ('tid-keyonly', 'configs/tid/ablations/tid-keyonly_{pair}.py'),
    # region weights: the low-value region not attenuated (the default before issue 13) / none
    ('tid-regions211', 'configs/tid/ablations/tid-regions211_{pair}.py'),
    ('tid-noregions', 'configs/tid/ablations/tid-noregions_{pair}.py'),
    # loss form: TID's regions in FGD's raw-feature loss, with FGD's weights (tuned as FGD)
    ('tid-fgdform', 'configs/tid/ablations/tid-fgdform_{pair}.py'),
    # class score graded by the right class's probability (2.0 / 1.5 / 0.4) against right / wrong
    ('tid-clsgraded', 'configs/tid/ablations/tid-clsgraded_{pair}.py'),
])
# ablations tuned as another method (``run_benchmark --tuned``): the FGD form has FGD's loss and
# FGD's weights (alpha, beta, gamma), so it takes FGD's sweep choice and the two differ by their
# masks alone, even where its own weight is swept (a check that the weight is not the cause);
# every other ablation takes TID's, so that it differs from TID by its switch alone
TUNED_AS = {'tid-fgdform': 'fgd'}
# combinations tuned on top of their parts' sweep choices (``tools/benchmark/sweep.py``): name ->
# (the part whose chosen factor the overall ``model.distiller.loss_weight`` carries, {each other
# part: the option of its loss's own weight in the combination's config}). At factor 1 every part
# has the weight its own sweep chose; the combination's sweep scales them all together.
COMBINATIONS = {
    'tid-crosskd': ('crosskd', {
        'tid': 'model.distiller.distill_losses.loss_tid.loss_weight'
    }),
}
# selectable, not run by default
EXTRA_CONFIGS = OrderedDict([
    ('fgd-initstudent', 'configs/fgd/fgd-initstudent_{pair}.py'),
    # SFDM's first weighting (region means, low 0.2), measured in the from-scratch regime
    ('tid-regionmean', 'configs/tid/ablations/tid-regionmean_{pair}.py'),
    # two-stage pairs: the RoI head's significance added to the RPN's (issue 12's option)
    ('tid-roi', 'configs/tid/ablations/tid-roi_{pair}.py'),
])


def pretrained_checkpoint(pair: str) -> str:
    """The checkpoint (path or URL) of a pair's pretrained teacher: its pair base's
    ``teacher_ckpt``."""
    from mmengine.config import Config
    return Config.fromfile(osp.join(REPO, 'configs', '_base_', 'pairs', f'{pair}.py')).teacher_ckpt


def catalogue(pair: str = PAIR) -> Dict[str, 'OrderedDict[str, str]']:
    """The methods, ablations and extras whose configs exist for ``pair`` (name -> config)."""
    if pair not in PAIRS:
        raise SystemExit(f'unknown pair {pair!r}; known: {", ".join(PAIRS)}')

    def existing(patterns):
        paths = ((name, pattern.format(pair=pair)) for name, pattern in patterns.items())
        return OrderedDict((n, p) for n, p in paths if osp.isfile(osp.join(REPO, p)))

    methods = OrderedDict([('student', PAIRS[pair].student)])
    methods.update(existing(METHOD_CONFIGS))
    extra = existing(EXTRA_CONFIGS)
    missing = [n for n in PAIRS[pair].extra_methods if n not in extra]
    if missing:
        raise SystemExit(
            f'the pair {pair} compares {missing} as methods, but their configs '
            f'({", ".join(EXTRA_CONFIGS.get(n, n).format(pair=pair) for n in missing)}) '
            'do not exist: add them or drop the names from its extra_methods')
    methods.update((n, extra.pop(n)) for n in PAIRS[pair].extra_methods)
    return dict(methods=methods, ablations=existing(ABLATION_CONFIGS), extra=extra)


_DEFAULT = catalogue(PAIR)
METHODS, ABLATIONS, EXTRA = _DEFAULT['methods'], _DEFAULT['ablations'], _DEFAULT['extra']
ALL = OrderedDict(list(METHODS.items()) + list(ABLATIONS.items()) + list(EXTRA.items()))
DEFAULT = list(METHODS) + list(ABLATIONS)
LABELS = {
    'student': 'student alone',
    'tid': 'TID',
    'fgd': 'FGD',
    'crosskd': 'CrossKD',
    'tbd': 'TBD (reconstr.)',
    'pkd': 'PKD',
    'ld': 'LD',
    'tid-crosskd': 'TID + CrossKD',
    'tid-clsonly': 'TID, cls score only',
    'tid-regonly': 'TID, reg score only',
    'tid-fixedthr': 'TID, fixed IoU thresholds',
    'tid-keyonly': 'TID, key areas only',
    'tid-regionmean': 'TID, region means, low x0.2',
    'tid-noregions': 'TID, no regions (1, 1, 1)',
    'tid-regions211': 'TID, low not attenuated (2, 1, 1)',
    'fgd-initstudent': 'FGD + init_student',
    'tid-fgdform': 'TID, FGD form (raw features)',
    'tid-clsgraded': 'TID, class score graded by probability',
    'tid-roi': 'TID, RPN + RoI significance',
}


class Method(NamedTuple):
    """One benchmark entry: a config plus optional ``key=value`` overrides (a variant)."""
    name: str
    config: str
    options: List[str]

    @property
    def label(self) -> str:
        return LABELS.get(self.name, self.name)

    @property
    def is_distillation(self) -> bool:
        # a student-alone config (or a variant of one) trains no teacher
        return self.config not in {pair.student for pair in PAIRS.values()}


def split_options(text: str) -> List[str]:
    """``a=1,b=(2,3),c=[4,5]`` -> ``['a=1', 'b=(2,3)', 'c=[4,5]']``: commas inside brackets
    stay."""
    out, depth, current = [], 0, ''
    for char in text:
        depth += char in '([{'
        depth -= char in ')]}'
        if char == ',' and depth == 0:
            out.append(current)
            current = ''
        else:
            current += char
    return [o for o in out + [current] if o]


def known_configs(pair: str = PAIR) -> 'OrderedDict[str, str]':
    """Every method, ablation and extra of ``pair`` in one mapping (name -> config)."""
    found = catalogue(pair)
    return OrderedDict(
        list(found['methods'].items()) + list(found['ablations'].items()) +
        list(found['extra'].items()))


def resolve(names: List[str], variants: List[str], pair: str = PAIR) -> List[Method]:
    """Methods of ``pair`` by name, plus variants ``NAME=BASE[:key=value,key=value]`` of known
    methods."""
    known = known_configs(pair)
    out = []
    for name in names:
        if name not in known:
            raise SystemExit(f'unknown method {name!r} for the pair {pair}; known: '
                             f'{", ".join(known)} (or --variant)')
        out.append(Method(name, known[name], []))
    for spec in variants:
        name, _, rest = spec.partition('=')
        base, _, opts = rest.partition(':')
        if not name or base not in known:
            raise SystemExit(f'--variant {spec!r}: expected NAME=BASE[:key=value,...] with BASE '
                             f'one of {", ".join(known)}')
        out.append(Method(name, known[base], split_options(opts)))
    if not any(m.name == 'student' for m in out):
        out.insert(0, Method('student', PAIRS[pair].student, []))  # every table's baseline
    return out
