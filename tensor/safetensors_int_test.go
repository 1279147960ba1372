package tensor

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSafetensorsIntegerDtypes: the integer and bool dtypes of a PyTorch
// state dict read exactly into either float type; bytes written by hand
// from the format's definition (little-endian two's complement).
func TestSafetensorsIntegerDtypes(t *testing.T) {
	var data []byte
	data = binary.LittleEndian.AppendUint64(data, uint64(1<<24)) // I64 16777216 (exact in float32)
	data = binary.LittleEndian.AppendUint64(data, ^uint64(6))    // I64 -7
	data = binary.LittleEndian.AppendUint32(data, ^uint32(0))    // I32 -1
	data = binary.LittleEndian.AppendUint32(data, 123456)        // I32
	data = binary.LittleEndian.AppendUint16(data, 0x8000)        // I16 -32768
	data = append(data, 0x80, 0x7f)                              // I8 -128, 127
	data = append(data, 0xff, 0x00)                              // U8 255, 0
	data = append(data, 1, 0, 1)                                 // BOOL
	hdr := `{"__metadata__":{"format":"pt"},` +
		`"i64":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},` +
		`"i32":{"dtype":"I32","shape":[2],"data_offsets":[16,24]},` +
		`"i16":{"dtype":"I16","shape":[],"data_offsets":[24,26]},` +
		`"i8":{"dtype":"I8","shape":[2],"data_offsets":[26,28]},` +
		`"u8":{"dtype":"U8","shape":[2],"data_offsets":[28,30]},` +
		`"b":{"dtype":"BOOL","shape":[3],"data_offsets":[30,33]}}`
	file := binary.LittleEndian.AppendUint64(nil, uint64(len(hdr)))
	file = append(append(file, hdr...), data...)
	want := map[string][]float64{
		"i64": {1 << 24, -7}, "i32": {-1, 123456}, "i16": {-32768},
		"i8": {-128, 127}, "u8": {255, 0}, "b": {1, 0, 1},
	}
	check := func(t *testing.T, got map[string][]float64, shapes map[string][]int) {
		require.Equal(t, want, got)
		require.Equal(t, []int(nil), shapes["i16"], "a 0-d tensor, as num_batches_tracked")
	}
	t.Run("float64", func(t *testing.T) {
		m, err := ReadSafetensors[float64](bytes.NewReader(file), int64(len(file)))
		require.NoError(t, err)
		got, shapes := map[string][]float64{}, map[string][]int{}
		for k, v := range m {
			got[k], shapes[k] = v.Data(), v.Shape()
		}
		check(t, got, shapes)
	})
	t.Run("float32", func(t *testing.T) {
		m, err := ReadSafetensors[float32](bytes.NewReader(file), int64(len(file)))
		require.NoError(t, err)
		got, shapes := map[string][]float64{}, map[string][]int{}
		for k, v := range m {
			for _, x := range v.Data() {
				got[k] = append(got[k], float64(x))
			}
			shapes[k] = v.Shape()
		}
		check(t, got, shapes)
	})
}
