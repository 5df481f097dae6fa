-- connected: did a call reach the other side (NULL where the CRM does not
-- say). A dial that did not connect is a call but never an answer.
ALTER TABLE crm_activities ADD COLUMN connected boolean;

-- deactivated_at: when the warehouse first saw an active user stored as
-- inactive; NULL for active users and for users first seen inactive.
ALTER TABLE crm_users ADD COLUMN deactivated_at timestamptz;
