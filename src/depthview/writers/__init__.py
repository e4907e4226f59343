"""One writer module per output format, shared by ``export`` and ``convert``.

``png`` (colour and colourised pictures), ``png16`` (16-bit depth with depthview's units
marker), ``ply`` (point clouds), ``mp4`` (H.264 through PyAV), ``npz`` (numpy archives
streamed through spill files, in export's and convert's layouts), ``tum`` (TUM RGB-D's
folder layout), ``sinkfile`` (``.rrd`` and ``.mcap``: one writer through depthview's Rerun
or Foxglove sink, the sink its parameter). ``base`` holds what export's writers take
(``Settings``) and convert's writers return (``Row``); ``pictures`` makes the pictures png
and mp4 hold. Every file is written under a temporary name and renamed when complete
(``depthview.outputs.atomic``). Writers stream: memory does not grow with frames.
"""
