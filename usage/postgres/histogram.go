package postgres

import "math"

// The latency histogram: bucket 0 holds calls up to 1 ms, bucket i calls
// in (growth^(i-1), growth^i] ms, the last every call slower than that
// (about an hour). A percentile read back is within 5% of the true one.
const (
	histGrowth  = 1.1
	histBuckets = 160
)

var logGrowth = math.Log(histGrowth)

// histIndex is the bucket of a latency in milliseconds.
func histIndex(ms float64) int {
	if !(ms > 1) { // also NaN
		return 0
	}
	i := int(math.Ceil(math.Log(ms) / logGrowth))
	if i >= histBuckets {
		return histBuckets - 1
	}
	if i < 1 {
		return 1
	}
	return i
}

// histUpper is the upper bound of bucket i in milliseconds.
func histUpper(i int) float64 { return math.Pow(histGrowth, float64(i)) }

// percentile estimates the q-quantile (0 < q <= 1) in milliseconds: the
// middle of the bucket holding the ceil(q*n)-th call; 0 without calls.
func percentile(h []int64, q float64) float64 {
	var n int64
	for _, c := range h {
		n += c
	}
	if n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(n)))
	rank = max(rank, 1)
	var cum int64
	for i, c := range h {
		cum += c
		if cum >= rank {
			if i == 0 {
				return 1
			}
			lo, hi := histUpper(i-1), histUpper(i)
			return math.Round((lo+hi)/2*1000) / 1000
		}
	}
	return histUpper(len(h) - 1)
}

func addHist(dst, src []int64) []int64 {
	if len(dst) < len(src) {
		dst = append(dst, make([]int64, len(src)-len(dst))...)
	}
	for i, c := range src {
		dst[i] += c
	}
	return dst
}
