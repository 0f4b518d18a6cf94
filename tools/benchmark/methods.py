"""The methods the benchmark compares on the embedded default pair, and their configs."""
from collections import OrderedDict
from typing import List, NamedTuple

PAIR = 'gfl-r50w32_gfl-r18w16_800it_synthetic'
TEACHER = 'configs/synthetic/gfl_r50w32_fpn96_3200it_synthetic.py'
STUDENT = 'configs/synthetic/gfl_r18w16_fpn96_800it_synthetic.py'

# name -> config; 'student' is the student alone (the baseline every gain is measured against)
METHODS = OrderedDict([
    ('student', STUDENT),
    ('tid', f'configs/tid/tid_{PAIR}.py'),
    ('fgd', f'configs/fgd/fgd_{PAIR}.py'),
    ('crosskd', f'configs/crosskd/crosskd_{PAIR}.py'),
    ('tbd', f'configs/tbd/tbd_{PAIR}.py'),
    ('pkd', f'configs/pkd/pkd_{PAIR}.py'),
    ('ld', f'configs/ld/ld_{PAIR}.py'),
    ('tid-crosskd', f'configs/tid_crosskd/tid-crosskd_{PAIR}.py'),
])
# TID's ablation switches (paper: balancing tasks, detector thresholds, learning dynamics)
ABLATIONS = OrderedDict([
    ('tid-clsonly', f'configs/tid/ablations/tid-clsonly_{PAIR}.py'),
    ('tid-regonly', f'configs/tid/ablations/tid-regonly_{PAIR}.py'),
    ('tid-fixedthr', f'configs/tid/ablations/tid-fixedthr_{PAIR}.py'),
    ('tid-keyonly', f'configs/tid/ablations/tid-keyonly_{PAIR}.py'),
    # SFDM's region weighting (our choice, the paper gives none): first defaults / no regions
    ('tid-regionmean', f'configs/tid/ablations/tid-regionmean_{PAIR}.py'),
    ('tid-noregions', f'configs/tid/ablations/tid-noregions_{PAIR}.py'),
])
# selectable, not run by default
EXTRA = OrderedDict([
    ('fgd-initstudent', f'configs/fgd/fgd-initstudent_{PAIR}.py'),
    ('tid-fgdform', f'configs/tid/ablations/tid-fgdform_{PAIR}.py'),
])
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
    'fgd-initstudent': 'FGD + init_student',
    'tid-fgdform': 'TID, FGD form (raw features)',
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
        return self.config != STUDENT


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


def resolve(names: List[str], variants: List[str]) -> List[Method]:
    """Methods by name, plus variants ``NAME=BASE[:key=value,key=value]`` of known methods."""
    out = []
    for name in names:
        if name not in ALL:
            raise SystemExit(f'unknown method {name!r}; known: {", ".join(ALL)} (or --variant)')
        out.append(Method(name, ALL[name], []))
    for spec in variants:
        name, _, rest = spec.partition('=')
        base, _, opts = rest.partition(':')
        if not name or base not in ALL:
            raise SystemExit(f'--variant {spec!r}: expected NAME=BASE[:key=value,...] with BASE '
                             f'one of {", ".join(ALL)}')
        out.append(Method(name, ALL[base], split_options(opts)))
    if not any(m.name == 'student' for m in out):
        out.insert(0, Method('student', STUDENT, []))  # every table needs the baseline
    return out
