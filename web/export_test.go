package web

// The formatting the pages use, for the black-box tests in web_test to
// compare what a page shows with a report's numbers.
var (
	PctCut    = pctCut
	StatusFor = statusFor
	ValueText = valueText
	KPIDef    = def
)
