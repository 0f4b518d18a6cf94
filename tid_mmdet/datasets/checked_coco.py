"""CheckedCocoDataset: mmdet's ``CocoDataset`` that says which annotations it drops and refuses
to be empty."""
import logging
import math
from collections import Counter
from typing import List, Union

from mmdet.datasets import CocoDataset
from mmengine.logging import print_log

from tid_mmdet.registry import DATASETS

# why mmdet's CocoDataset.parse_data_info skips an annotation, in the order we classify
DROP_REASONS = {
    'ignore': 'marked "ignore"',
    'non_finite': 'with a NaN or infinite coordinate',
    'degenerate': 'less than 1 px wide or high, or with area <= 0',
    'outside': 'outside the image',
    'unknown_category': 'whose category_id is not a category of the file',
    'other_class': "whose category is not one of the config's classes",
    'other': 'for a reason not classified here',
}


@DATASETS.register_module()
class CheckedCocoDataset(CocoDataset):
    """mmdet's ``CocoDataset`` (same arguments, same samples) that reports what it drops and
    refuses to be empty.

    mmdet skips, without a word, every annotation that is marked ``ignore``, has a NaN or
    infinite coordinate, is less than 1 px wide or high (or has ``area <= 0``), lies outside
    its image, or has a ``category_id`` that the file does not define or the config's
    ``metainfo.classes`` does not list. This class counts them per reason and logs one line
    per dataset (a warning when anything was dropped)::

        CheckedCocoDataset data/annotations/instances_train.json: 16 images; 40 of 44
        annotations kept, 4 dropped: 1 with a NaN or infinite coordinate, 2 outside the image,
        1 whose category_id is not a category of the file

    An empty set (an annotation file without images, ``metainfo.classes`` that match none of
    the file's category names, every image filtered by ``filter_cfg``) is a ``ValueError``
    naming the file and the reason, when the dataset is built; plain mmdet fails later with
    ``ValueError: need at least one array to concatenate``.
    """

    def load_data_list(self) -> List[dict]:
        self._dropped: Counter = Counter()
        self._num_anns = 0
        self._file_categories: List[str] = []
        return super().load_data_list()

    def parse_data_info(self, raw_data_info: dict) -> Union[dict, List[dict]]:
        data_info = super().parse_data_info(raw_data_info)
        if not self._file_categories:
            self._file_categories = [c['name'] for c in self.coco.cats.values()]
        img_info, anns = raw_data_info['raw_img_info'], raw_data_info['raw_ann_info']
        reasons = [self._drop_reason(ann, img_info) for ann in anns]
        self._num_anns += len(anns)
        # trust mmdet's own decision for the count; our reasons only name it
        dropped = len(anns) - len(data_info['instances'])
        named = [r for r in reasons if r is not None]
        if len(named) == dropped:
            self._dropped.update(named)
        else:
            self._dropped['other'] += dropped
        return data_info

    def _drop_reason(self, ann: dict, img_info: dict):
        if ann.get('ignore', False):
            return 'ignore'
        x1, y1, w, h = ann['bbox']
        if not all(math.isfinite(v) for v in (x1, y1, w, h)):
            return 'non_finite'
        if w < 1 or h < 1 or ann['area'] <= 0:
            return 'degenerate'
        inter_w = max(0, min(x1 + w, img_info['width']) - max(x1, 0))
        inter_h = max(0, min(y1 + h, img_info['height']) - max(y1, 0))
        if inter_w * inter_h == 0:
            return 'outside'
        if ann['category_id'] not in self.cat_ids:
            return 'unknown_category' if ann['category_id'] not in self.coco.cats \
                else 'other_class'
        return None

    def filter_data(self) -> List[dict]:
        loaded = len(self.data_list)
        data_list = super().filter_data()
        dropped = sum(self._dropped.values())
        message = (f'{type(self).__name__} {self.ann_file}: {len(data_list)} images'
                   f'{f" (of {loaded})" if len(data_list) != loaded else ""}; '
                   f'{self._num_anns - dropped} of {self._num_anns} annotations kept')
        if dropped:
            message += f', {dropped} dropped: ' + ', '.join(
                f'{n} {DROP_REASONS[r]}' for r, n in sorted(
                    self._dropped.items(), key=lambda kv: list(DROP_REASONS).index(kv[0])))
        print_log(message, logger='current', level=logging.WARNING if dropped else logging.INFO)
        if not data_list:
            raise ValueError(f'{type(self).__name__}: no image to '
                             f'{"evaluate" if self.test_mode else "train"} on in '
                             f'{self.ann_file}: {self._empty_reason(loaded)}')
        return data_list

    def _empty_reason(self, loaded: int) -> str:
        if loaded == 0:
            return ('the file lists no images. Check ann_file and data_root (a split that '
                    'was not generated or converted?).')
        classes = list(self.metainfo.get('classes', ()))
        if not self.cat_ids:
            return (f"none of the config's {len(classes)} classes ({classes[:5]}"
                    f"{' ...' if len(classes) > 5 else ''}) is a category name of the file "
                    f'(its categories: {self._file_categories[:5]}'
                    f"{' ...' if len(self._file_categories) > 5 else ''}). Set "
                    'metainfo.classes to the names the annotation file uses.')
        filter_cfg = dict(self.filter_cfg or {})
        return (f'filter_cfg={filter_cfg} removed all {loaded} images (filter_empty_gt keeps '
                "only images with an annotation of the config's classes, min_size only images "
                'at least that large). Check the annotations (see the line above) or relax '
                'filter_cfg.')
