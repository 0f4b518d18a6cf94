# The teacher of the COCO GFL pair, as the benchmark evaluates it (tools/test.py with the model-zoo
# checkpoint of configs/_base_/pairs/gfl-r101-ms2x_gfl-r50_1x_coco.py): mmdet's GFL R-101 ms-2x.
_base_ = ['mmdet::gfl/gfl_r101_fpn_ms-2x_coco.py']
custom_imports = dict(imports=['tid_mmdet'], allow_failed_imports=False)
val_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))
test_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))
