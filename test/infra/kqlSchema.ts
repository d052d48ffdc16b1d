import '@kusto/language-service-next/bridge.js';
import '@kusto/language-service-next';

/**
 * KQL checked the way Azure checks it: the Kusto language service (Kusto.Language, the parser and binder
 * behind Azure Data Explorer and Log Analytics, as its JavaScript build) analyses a query against the
 * tables of the Application Insights component's classic schema, so a typo, an unknown column or a
 * workspace name (`AppTraces`, `Message`) is an error here rather than a rule that never fires.
 *
 * Columns and types: the Application Insights docs' table of legacy (component) columns next to their
 * workspace names ("Migrate to workspace-based Application Insights resources", table structure).
 */
const common =
  'timestamp:datetime, itemId:string, itemType:string, itemCount:int, operation_Id:string, operation_Name:string, ' +
  'operation_ParentId:string, operation_SyntheticSource:string, customDimensions:dynamic, cloud_RoleName:string, ' +
  'cloud_RoleInstance:string, appId:string, appName:string, iKey:string, sdkVersion:string, session_Id:string, ' +
  'user_Id:string, user_AccountId:string, user_AuthenticatedId:string, application_Version:string, client_Type:string, ' +
  'client_Model:string, client_OS:string, client_IP:string, client_City:string, client_StateOrProvince:string, ' +
  'client_CountryOrRegion:string, client_Browser:string';

export const componentTables: Record<string, string> = {
  traces: `message:string, severityLevel:int, customMeasurements:dynamic, ${common}`,
  // success is a string in the component's schema ("True"/"False"), a bool in the workspace's AppRequests.
  requests: `id:string, name:string, url:string, success:string, resultCode:string, duration:real, performanceBucket:string, source:string, customMeasurements:dynamic, ${common}`,
  dependencies: `id:string, name:string, target:string, type:string, data:string, success:string, resultCode:string, duration:real, performanceBucket:string, customMeasurements:dynamic, ${common}`,
  exceptions: `problemId:string, handledAt:string, type:string, message:string, assembly:string, method:string, outerType:string, outerMessage:string, outerAssembly:string, outerMethod:string, innermostType:string, innermostMessage:string, innermostAssembly:string, innermostMethod:string, severityLevel:int, details:dynamic, customMeasurements:dynamic, ${common}`,
};

const symbols = Kusto.Language.Symbols;
const tables = Object.entries(componentTables).map(
  ([name, columns]) => new symbols.TableSymbol.$ctor7(name, `(${columns})`, null),
);
const globals = Kusto.Language.GlobalState.Default?.WithDatabase(new symbols.DatabaseSymbol.ctor('component', tables));
if (globals === null || globals === undefined)
  throw new Error('the Kusto language service has no default global state');

/** The errors the language service finds in a query run against the component; empty when it is sound. */
export function kqlErrors(query: string): string[] {
  const code = Kusto.Language.KustoCode.ParseAndAnalyze(query, globals);
  if (code === null) throw new Error('the Kusto language service returned no analysis');
  const errors: string[] = [];
  const diagnostics = code.GetDiagnostics()?.GetEnumerator();
  if (diagnostics === undefined) throw new Error('the Kusto language service returned no diagnostics');
  while (diagnostics.moveNext()) {
    const diagnostic = diagnostics.Current;
    if (diagnostic.Severity === 'Error') errors.push(`${diagnostic.Message} (at ${String(diagnostic.Start)})`);
  }
  return errors;
}
