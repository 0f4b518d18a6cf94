"""Each compatibility fix of tid_mmdet.compat is needed (upstream fails) and works (with it).

The "upstream fails" halves run in a fresh interpreter without tid_mmdet; if one of them starts
passing, the upstream bug is fixed and the corresponding shim can go.
"""
import os.path as osp
import subprocess
import sys
import textwrap

import pytest
import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def run_python(code: str, tmp_path) -> subprocess.CompletedProcess:
    script = tmp_path / 'snippet.py'
    script.write_text(textwrap.dedent(code))
    env = {'PYTHONPATH': REPO, 'PATH': '/usr/bin:/bin', 'OMP_NUM_THREADS': '1'}
    return subprocess.run([sys.executable, str(script)],
                          capture_output=True,
                          text=True,
                          env=env,
                          cwd=str(tmp_path),
                          timeout=300)


@pytest.mark.skipif(int(torch.__version__.split('.')[0]) < 2, reason='bug is torch >= 2 only')
def test_mmrazor_import_fails_without_the_shim(tmp_path):
    proc = run_python('import mmrazor.models', tmp_path)
    assert proc.returncode != 0 and 'torch>=1.13' in proc.stderr


def test_mmrazor_imports_with_the_shim_and_torch_version_is_restored(tmp_path):
    proc = run_python(
        '''
        import torch
        real = torch.__version__
        import tid_mmdet
        from mmrazor.models import SingleTeacherDistill  # noqa
        from mmrazor.utils import register_all_modules
        register_all_modules(False)  # what MMEngine's lazy registry import does
        assert torch.__version__ == real, torch.__version__
        print('ok')
    ''', tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().endswith('ok')


SAVE_RUNNER_LIKE_CHECKPOINT = '''
    import numpy as np, torch
    from mmengine.logging import HistoryBuffer
    buf = HistoryBuffer(); buf.update(1.5)
    torch.save(dict(meta=dict(seed=np.int64(3), hist=np.arange(3.0)),
                    state_dict=dict(w=torch.ones(2)),
                    message_hub=dict(log_scalars={'train/loss': buf})), 'ckpt.pth')
'''
LOAD = '''
    from mmengine.runner import CheckpointLoader
    ckpt = CheckpointLoader.load_checkpoint('ckpt.pth', map_location='cpu')
    assert ckpt['message_hub']['log_scalars']['train/loss'].current() == 1.5
    print('ok')
'''


@pytest.mark.skipif(not hasattr(torch.serialization, 'add_safe_globals'), reason='torch < 2.4')
def test_runner_checkpoint_fails_to_load_without_the_fix(tmp_path):
    proc = run_python(SAVE_RUNNER_LIKE_CHECKPOINT + LOAD, tmp_path)
    assert proc.returncode != 0 and 'Unpickl' in proc.stderr


def test_runner_checkpoint_loads_with_the_fix(tmp_path):
    proc = run_python('\n    import tid_mmdet' + SAVE_RUNNER_LIKE_CHECKPOINT + LOAD, tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]


@pytest.mark.skipif(not hasattr(torch.serialization, 'add_safe_globals'), reason='torch < 2.4')
def test_weights_only_loading_stays_on_for_other_types(tmp_path):
    proc = run_python(
        '''
        import os, numpy as np, torch, tid_mmdet

        class Payload:
            def __reduce__(self):
                return (os.getcwd, ())

        class Sneaky:  # getattr is only allowed for HistoryBuffer statistics
            def __reduce__(self):
                return (getattr, (np.ndarray, 'tofile'))

        for payload in (Payload(), Sneaky()):
            torch.save({'x': payload}, 'evil.pth')
            try:
                torch.load('evil.pth')
            except Exception as err:
                print('refused', type(err).__name__)
            else:
                print('LOADED')
    ''', tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.count('refused') == 2 and 'LOADED' not in proc.stdout
