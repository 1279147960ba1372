package onnx

// conformanceSkip lists conformance cases of registered ops that are not
// run, each with the reason. One line per case.
var conformanceSkip = map[string]string{}
