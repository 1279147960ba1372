#!/usr/bin/python3
# Writes model.onnx + weights.bin with ONNX's own Python writer
# (save_as_external_data): y = x + w, w = arange(8).reshape(2, 4) as
# external data. Run: /usr/bin/python3 onnx/testdata/external/gen_external.py
import os
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

here = os.path.dirname(os.path.abspath(__file__))
w = numpy_helper.from_array(np.arange(8, dtype=np.float32).reshape(2, 4), "w")
g = helper.make_graph(
    [helper.make_node("Add", ["x", "w"], ["y"])], "g",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])], [w])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
onnx.save_model(m, os.path.join(here, "model.onnx"), save_as_external_data=True,
                all_tensors_to_one_file=True, location="weights.bin", size_threshold=0)
