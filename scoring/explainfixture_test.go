package scoring

// fixtureNames names the fixture's records as storeNamed stores them.
var fixtureNames = map[string]string{
	"amo/C1": "Acme", "amo/C2": "Beta", "amo/C3": "Gamma", "amo/C4": "Old", "amo/C5": "Zeta",
	"amo/K1": "Kim", "amo/K2": "Kai", "amo/K3": "Kurt", "amo/K4": "Kira", "amo/K5": "Karl",
	"hub/H1": "Delta", "hub/H2": "Eps", "hub/H3": "Eta", "hub/HK1": "Hana", "hub/HK2": "Hugo", "hub/HK3": "Hedy", "hub/HK4": "Hal",
	"amo/D1": "Acme first", "amo/D2": "Acme renewal", "amo/D3": "Acme upsell", "amo/D4": "Beta start", "amo/D5": "Beta euro",
	"amo/D6": "Gamma pilot", "amo/D7": "Gamma lost", "amo/D8": "Karl deal", "amo/D9": "Gamma rollout", "amo/D11": "Old deal",
	"amo/D12": "Zeta start", "amo/D13": "Zeta next", "hub/HD1": "Delta pilot", "hub/HD2": "Delta rollout", "hub/HD3": "Eps deal",
	"hub/HD4": "Eps lost", "hub/HD5": "Eps open", "hub/HD6": "Eta deal",
	"amo/0": "Question", "amo/1": "Call back", "amo/2": "Reply", "hub/3": "Chat", "hub/4": "Review", "amo/5": "Missed call",
	"amo/6": "Complaint", "amo/7": "Late reply", "hub/8": "Question", "hub/9": "Reply", "amo/10": "Chat", "amo/11": "Visit",
}
