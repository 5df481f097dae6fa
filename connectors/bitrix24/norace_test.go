//go:build !race

package bitrix24

const raceEnabled = false
