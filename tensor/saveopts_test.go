package tensor

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"io"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSaveInt64: SaveOptions.Int64 stores the named tensors as I64
// (safetensors) and '<i8' (.npy in a .npz), the bytes checked against the
// formats' definitions (little-endian two's complement), and the readers
// give the values back; the other tensors stay F32.
func TestSaveInt64(t *testing.T) {
	count := FromSlice([]float32{3}) // 0-d, as num_batches_tracked
	ids := FromSlice([]float32{-7, 1 << 24, 0}, 3)
	w := FromSlice([]float32{0.5, -1.25}, 2)
	tensors := map[string]*Dense[float32]{"bn.num_batches_tracked": count, "ids": ids, "w": w}
	o := SaveOptions{Int64: map[string]bool{"bn.num_batches_tracked": true, "ids": true, "absent": true}}
	wantInts := func(v ...int64) []byte {
		var b []byte
		for _, x := range v {
			b = binary.LittleEndian.AppendUint64(b, uint64(x))
		}
		return b
	}

	t.Run("safetensors", func(t *testing.T) {
		var buf bytes.Buffer
		require.NoError(t, WriteSafetensorsWith(&buf, tensors, o))
		file := buf.Bytes()
		n := binary.LittleEndian.Uint64(file)
		hdr, data := string(file[8:8+n]), file[8+n:]
		require.Contains(t, hdr, `"bn.num_batches_tracked":{"dtype":"I64","shape":[],"data_offsets":[0,8]}`)
		require.Contains(t, hdr, `"ids":{"dtype":"I64","shape":[3],"data_offsets":[8,32]}`)
		require.Contains(t, hdr, `"w":{"dtype":"F32","shape":[2],"data_offsets":[32,40]}`)
		require.Equal(t, wantInts(3, -7, 1<<24, 0), data[:32])
		back, err := ReadSafetensors[float32](bytes.NewReader(file), int64(len(file)))
		require.NoError(t, err)
		for k, v := range tensors {
			require.Equal(t, v.Shape(), back[k].Shape(), k)
			require.Equal(t, v.Data(), back[k].Data(), k)
		}
	})
	t.Run("npz", func(t *testing.T) {
		var buf bytes.Buffer
		require.NoError(t, WriteNPZWith(&buf, tensors, SaveOptions{Int64: o.Int64}))
		zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		require.NoError(t, err)
		for _, f := range zr.File {
			r, err := f.Open()
			require.NoError(t, err)
			b, err := io.ReadAll(r)
			require.NoError(t, err)
			hlen := int(binary.LittleEndian.Uint16(b[8:]))
			hdr, data := string(b[10:10+hlen]), b[10+hlen:]
			switch f.Name {
			case "bn.num_batches_tracked.npy":
				require.Contains(t, hdr, "'descr': '<i8'")
				require.Contains(t, hdr, "'shape': ()")
				require.Equal(t, wantInts(3), data)
			case "ids.npy":
				require.Contains(t, hdr, "'descr': '<i8'")
				require.Equal(t, wantInts(-7, 1<<24, 0), data)
			default:
				require.Contains(t, hdr, "'descr': '<f4'", f.Name)
			}
		}
		back, err := ReadNPZ[float64](bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		require.NoError(t, err)
		for k, v := range tensors {
			require.Equal(t, v.Shape(), back[k].Shape(), k)
			for i, x := range v.Data() {
				require.Equal(t, float64(x), back[k].Data()[i], k)
			}
		}
	})
	t.Run("not whole", func(t *testing.T) {
		bad := map[string]*Dense[float32]{"n": FromSlice([]float32{1.5}, 1)}
		var buf bytes.Buffer
		require.PanicsWithError(t, `tensor: WriteSafetensors: "n" holds 1.5 at 0, which is not a whole number within ±2^53`, func() {
			_ = WriteSafetensorsWith(&buf, bad, SaveOptions{Int64: map[string]bool{"n": true}})
		})
		require.Panics(t, func() { _ = WriteNPZWith(&buf, bad, SaveOptions{Int64: map[string]bool{"n": true}}) })
		require.Zero(t, buf.Len(), "nothing written")
		require.Panics(t, func() { _ = WriteNPZWith(&buf, bad, SaveOptions{Metadata: map[string]string{}}) })
	})
}
