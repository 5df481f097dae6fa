package bitrix24test

import (
	"net/http"
	"strconv"
	"strings"
)

// itemEntities are the tables crm.item.list serves, by entityTypeId.
var itemEntities = map[int]Entity{2: Deals, 3: Contacts, 4: Companies}

// itemFields are the crm.item.* names of the classic fields the reference
// lists for crm.item.list (§2): camelCase, with createdTime, updatedTime
// and contactIds for DATE_CREATE, DATE_MODIFY and CONTACT_ID. Names not
// here (user fields under useOriginalUfNames=Y) are the same in both.
var itemFields = map[string]string{
	"ID": "id", "TITLE": "title", "CATEGORY_ID": "categoryId", "STAGE_ID": "stageId",
	"STAGE_SEMANTIC_ID": "stageSemanticId", "CLOSED": "closed", "OPPORTUNITY": "opportunity",
	"CURRENCY_ID": "currencyId", "PROBABILITY": "probability", "BEGINDATE": "begindate", "CLOSEDATE": "closedate",
	"DATE_CREATE": "createdTime", "DATE_MODIFY": "updatedTime", "MOVED_TIME": "movedTime",
	"ASSIGNED_BY_ID": "assignedById", "COMPANY_ID": "companyId", "CONTACT_ID": "contactIds",
	"SOURCE_ID": "sourceId", "TYPE_ID": "typeId", "NAME": "name", "LAST_NAME": "lastName", "SECOND_NAME": "secondName",
}

// classicField is the classic name of a crm.item.* field.
func classicField(item string) string {
	for classic, name := range itemFields {
		if name == item {
			return classic
		}
	}
	return item
}

// itemListLocked answers crm.item.list in its own shape (sample 6.2): the
// entityTypeId's rows under result.items, camelCase names, ids and money
// as numbers, contactIds a list; select, filter and order name fields in
// camelCase. It pages as the classic list methods do.
func (s *Server) itemListLocked(params map[string]any) (callResult, *apiError) {
	e, ok := itemEntities[pInt(params, "entityTypeId", 0)]
	if !ok {
		return callResult{}, &apiError{http.StatusBadRequest, "NOT_FOUND", "Smart process not found"}
	}
	classic := map[string]any{"start": lookupCI(params, "start")}
	for _, key := range []string{"filter", "order"} {
		m := map[string]any{}
		for k, v := range pMap(params, key) {
			name := strings.TrimLeft(k, "<>=!%@")
			m[k[:len(k)-len(name)]+classicField(name)] = v
		}
		classic[key] = m
	}
	var sel []any
	for _, name := range pList(params, "select") {
		sel = append(sel, classicField(name))
	}
	if sel != nil {
		classic["select"] = sel
	}
	out, aerr := s.listLocked(s.tables[e], classic)
	if aerr != nil {
		return out, aerr
	}
	rows := out.result.([]any)
	items := make([]any, len(rows))
	for i, r := range rows {
		item := map[string]any{}
		for k, v := range r.(map[string]any) {
			name, ok := itemFields[k]
			if !ok {
				item[k] = v
				continue
			}
			item[name] = itemValue(k, v)
		}
		items[i] = item
	}
	out.result = map[string]any{"items": items}
	return out, nil
}

// itemValue types a classic string value as crm.item.list sends it: ids
// and money as numbers, CONTACT_ID as contactIds, a list.
func itemValue(classic string, v any) any {
	str, _ := v.(string)
	switch {
	case classic == "CONTACT_ID":
		if n, err := strconv.ParseInt(str, 10, 64); err == nil && n > 0 {
			return []any{n}
		}
		return []any{}
	case classic == "OPPORTUNITY":
		if f, err := strconv.ParseFloat(str, 64); err == nil {
			return f
		}
	case classic == "ID" || strings.HasSuffix(classic, "_ID") && classic != "STAGE_ID" && classic != "CURRENCY_ID" && classic != "STAGE_SEMANTIC_ID":
		if n, err := strconv.ParseInt(str, 10, 64); err == nil {
			return n
		}
	}
	return v
}
