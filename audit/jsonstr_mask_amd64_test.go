package audit

func init() {
	maskImpls = append(maskImpls, maskSSE2)
	if cpuAVX2() {
		maskImpls = append(maskImpls, maskAVX2)
	}
}
