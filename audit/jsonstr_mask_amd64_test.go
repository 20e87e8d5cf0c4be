package audit

func init() {
	maskFuncs["maskBlocksSSE2"] = maskBlocksSSE2
	if hasAVX2 {
		maskFuncs["maskBlocksAVX2"] = maskBlocksAVX2
	}
}
