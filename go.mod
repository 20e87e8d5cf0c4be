module github.com/kaudit/kaudit

go 1.26

require (
	github.com/RoaringBitmap/roaring/v2 v2.30.0
	github.com/klauspost/compress v1.20.4
	github.com/spf13/cobra v1.10.2
)
