"""tools/analysis_tools/gpu_smoke.py on CPU: one method, one step, tiny images (CI has no GPU);
a failing config is reported and makes the exit status non-zero without stopping the others."""
import importlib.util
import os.path as osp

import pytest
import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TID = osp.join(REPO, 'configs/tid/tid_gfl-r50w32_gfl-r18w16_800it_synthetic.py')


def load_script():
    path = osp.join(REPO, 'tools', 'analysis_tools', 'gpu_smoke.py')
    spec = importlib.util.spec_from_file_location('gpu_smoke', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cpu_one_step(capsys):
    smoke = load_script()
    assert TID in smoke.synthetic_configs()
    missing = osp.join(REPO, 'configs', 'does_not_exist.py')
    rc = smoke.main([
        '--device', 'cpu', '--no-synthetic', '--config', missing, '--config', TID, '--steps', '1',
        '--batch-size', '2', '--img-size', '64'
    ])
    out = capsys.readouterr().out
    assert rc == 1, out  # the missing config fails; TID still runs and is reported
    table = out[out.index('losses of the last step'):]
    tid_row = next(line for line in table.splitlines() if line.startswith('tid '))
    assert ' ok ' in tid_row and 'distill.loss_tid=' in tid_row, tid_row
    assert 'does_not_exist' in table and 'FAILED' in table
    assert '1/2 passed' in out


def test_losses_on_another_device_are_reported():
    smoke = load_script()
    losses = dict(loss_a=torch.tensor(1.0), loss_b=[torch.tensor(2.0), torch.tensor(float('nan'))])
    assert smoke.check_losses(losses,
                              torch.device('cpu')) == ['losses.loss_b[1] is not finite: [nan]']
    assert smoke.check_losses(losses, torch.device('meta'))[0].startswith('losses.loss_a is on cpu')


@pytest.mark.skipif(torch.cuda.is_available(), reason='needs a machine without CUDA')
def test_cuda_without_gpu_exits_with_a_message(capsys):
    assert load_script().main(['--device', 'cuda']) == 2
    assert 'sees no CUDA device' in capsys.readouterr().err
