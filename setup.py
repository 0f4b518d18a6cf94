import os
import os.path as osp
import shutil
from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def add_mim_extension():
    """Copy ``tools/`` and ``configs/`` into ``tid_mmdet/.mim``.

    ``mim train tid_mmdet <config>`` runs ``<site-packages>/tid_mmdet/.mim/tools/train.py``
    (the same layout as mmdet's wheel). Copies, not links, so a wheel is self contained.
    """
    mim_path = osp.join(HERE, 'tid_mmdet', '.mim')
    os.makedirs(mim_path, exist_ok=True)
    for name in ('tools', 'configs'):
        src, dst = osp.join(HERE, name), osp.join(mim_path, name)
        if not osp.exists(src):
            continue
        if osp.isdir(dst) and not osp.islink(dst):
            shutil.rmtree(dst)
        elif osp.lexists(dst):
            os.remove(dst)
        if osp.isdir(src):
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
        else:
            shutil.copyfile(src, dst)


def read_version():
    scope = {}
    with open(osp.join(HERE, 'tid_mmdet', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


def read_readme():
    path = osp.join(HERE, 'README.md')
    if not osp.exists(path):
        return ''
    with open(path, encoding='utf-8') as f:
        return f.read()


add_mim_extension()

setup(
    name='tid_mmdet',
    version=read_version(),
    description=('Task Integration Distillation (TID) and baselines for MMDetection 3.x / '
                 'MMRazor 1.x'),
    long_description=read_readme(),
    long_description_content_type='text/markdown',
    # the plugin's own range (tools/ needs os.waitstatus_to_exitcode: 3.9; the OpenMMLab stack is
    # untried on 3.13). `make install` installs the lock of requirements/, made on and verified
    # with Python 3.11 only (numpy 2.4, pandas 3.1, scipy 1.17 need >= 3.11): Makefile, PYTHON
    python_requires='>=3.9,<3.13',
    packages=find_packages(include=['tid_mmdet', 'tid_mmdet.*']),
    include_package_data=True,
    package_data={'tid_mmdet': ['.mim/**/*', '.mim/*']},
    install_requires=[
        'mmengine==0.10.7', 'mmcv==2.1.0', 'mmdet==3.3.0', 'mmrazor==1.0.0', 'pycocotools', 'joblib'
    ],
    license='Apache License 2.0',
    zip_safe=False,
)
