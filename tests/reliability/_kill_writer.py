"""Subprocess used by test_faults: write TFRecords until killed.

``python _kill_writer.py OUT MODE`` where MODE is ``stream`` (write records forever; the test
sends SIGKILL mid-write) or ``before_manifest`` (finish the shards, then SIGKILL itself right
before the manifest is written: the worst moment, shards already carry their final names).
"""

import os
import signal
import sys

import numpy as np

from sensorlm_keras.data import TFRecordDatasetWriter
from sensorlm_keras.data import dataset_manifest

out, mode = sys.argv[1], sys.argv[2]
names = [f"c{i}" for i in range(4)]
sensor = np.zeros((1440, 4), np.float32)
mask = np.zeros((1440, 4), bool)
if mode == "before_manifest":
    def _die(self, directory):
        os.kill(os.getpid(), signal.SIGKILL)

    dataset_manifest.DatasetManifest.save = _die
writer = TFRecordDatasetWriter(out, names, num_shards=2, salt="s", compression=None,
                               caption_variants=["high_summary"])
i = 0
while mode == "stream" or i < 6:
    writer.write(sensor, mask, 0.0, {"high_summary": "a day"}, person_id=f"p{i}", day_index=0)
    i += 1
    if i == 200:
        print("writing", flush=True)
writer.close()
