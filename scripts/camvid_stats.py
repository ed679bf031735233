"""camvid_stats.py: the BGR input statistics ESPNet's upstream training used (loadData.py's rule).

Averages of per-image channel means and stds over the CamVid training images, in float32 as
upstream accumulates them. Usage: /usr/bin/python3 scripts/camvid_stats.py [../shared/data/camvid]
"""
import os
import sys

import numpy as np
from PIL import Image

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join("..", "shared", "data", "camvid")
mean = np.zeros(3, dtype=np.float32)
std = np.zeros(3, dtype=np.float32)
n = 0
with open(os.path.join(root, "train.txt")) as f:
    for line in f:
        img = np.asarray(Image.open(os.path.join(root, line.split()[0])).convert("RGB"))[:, :, ::-1]
        for c in range(3):
            mean[c] += np.mean(img[:, :, c])
            std[c] += np.std(img[:, :, c])
        n += 1
mean /= n
std /= n
print("images", n)
print("mean_bgr", ", ".join("%.8g" % v for v in mean))
print("std_bgr", ", ".join("%.8g" % v for v in std))
