package admin

// The JSON shapes of the API, for the tests of package admin_test.
type (
	AuditJSON   = adminAuditJSON
	ModelJSON   = adminModelJSON
	ModelsJSON  = adminModelsJSON
	RunJSON     = adminRunJSON
	RunsJSON    = adminRunsJSON
	VersionJSON = adminVersionJSON
)
