/*
 * The FNE indicators data source: every query is evaluated by the Go backend (so alerting works); the
 * frontend only interpolates dashboard variables, drops incomplete queries and feeds template variables
 * from the backend's resources.
 */
import {
  CustomVariableSupport,
  DataQueryRequest,
  DataQueryResponse,
  DataSourceInstanceSettings,
  MetricFindValue,
  ScopedVars,
} from '@grafana/data';
import { DataSourceWithBackend, getTemplateSrv, TemplateSrv } from '@grafana/runtime';
import { from, map, Observable } from 'rxjs';

import { VariableQueryEditor } from './components/VariableQueryEditor';
import {
  BreakdownLevel,
  CatalogueEntry,
  DEFAULT_QUERY,
  FneOptions,
  FneQuery,
  FneVariableQuery,
  QUERY_TYPE_OPTIONS,
  QueryType,
  TextValue,
} from './types';

const QUERY_TYPES = new Set<string>(QUERY_TYPE_OPTIONS.map((o) => o.value as string));

/**
 * Multi-valued variables (or "All"):
 * - territory: the values joined by commas ("epci:200040566,epci:200046977"); the backend answers one
 *   frame per territory, named after it;
 * - indicator: the FIRST value only, since a query evaluates one indicator (a panel per indicator, or a
 *   repeated panel, shows several).
 */
export function joinValues(value: string | string[]): string {
  return Array.isArray(value) ? value.map(String).join(',') : value;
}

export function firstValue(value: string | string[]): string {
  if (Array.isArray(value)) {
    return value.length > 0 ? String(value[0]) : '';
  }
  return value;
}

type Formatter = (value: string | string[]) => string;

export class DataSource extends DataSourceWithBackend<FneQuery, FneOptions> {
  constructor(
    instanceSettings: DataSourceInstanceSettings<FneOptions>,
    private readonly templateSrv: TemplateSrv = getTemplateSrv()
  ) {
    super(instanceSettings);
    this.variables = new FneVariableSupport(this);
  }

  getDefaultQuery(): Partial<FneQuery> {
    return DEFAULT_QUERY;
  }

  /** Queries the backend cannot answer yet (series or breakdown without indicator) are not sent. */
  filterQuery(query: FneQuery): boolean {
    if (query.hide) {
      return false;
    }
    const type = query.queryType ?? DEFAULT_QUERY.queryType;
    if (!type || !QUERY_TYPES.has(type)) {
      return false;
    }
    if (type === 'series' || type === 'breakdown') {
      return Boolean(query.indicator && query.indicator.trim() !== '');
    }
    if (type === 'alert_stale') {
      return Object.keys(query.staleAfter ?? {}).length > 0;
    }
    return true;
  }

  applyTemplateVariables(query: FneQuery, scopedVars: ScopedVars): FneQuery {
    return {
      ...query,
      queryType: query.queryType ?? (DEFAULT_QUERY.queryType as QueryType),
      axis: query.axis ?? DEFAULT_QUERY.axis,
      indicator: this.interpolate(query.indicator, scopedVars, firstValue),
      territory: this.interpolate(query.territory, scopedVars, joinValues),
    };
  }

  /** Replaces $variables in an id-like field; undefined when nothing is left (the backend's default). */
  interpolate(value: string | undefined, scopedVars: ScopedVars | undefined, format: Formatter): string | undefined {
    if (value === undefined) {
      return undefined;
    }
    const replaced = this.templateSrv.replace(value, scopedVars, format).trim();
    return replaced === '' ? undefined : replaced;
  }

  getCatalogue(): Promise<CatalogueEntry[]> {
    return this.getResource<CatalogueEntry[]>('catalogue');
  }

  getAxes(): Promise<TextValue[]> {
    return this.getResource<TextValue[]>('axes');
  }

  /** Without level: the scope (or the département) then its children; commune without parent: all of the scope. */
  getTerritories(level?: BreakdownLevel, parent?: string): Promise<TextValue[]> {
    const params: Record<string, string> = {};
    if (level) {
      params.level = level;
    }
    if (parent) {
      params.parent = parent;
    }
    return this.getResource<TextValue[]>('territories', params);
  }

  /** Values of a template variable (also used by the legacy metricFindQuery path). */
  async metricFindQuery(query: FneVariableQuery, options?: { scopedVars?: ScopedVars }): Promise<MetricFindValue[]> {
    switch (query.kind) {
      case 'epci':
        return toMetricFindValues(await this.getTerritories('epci'));
      case 'communes': {
        // Several EPCI (multi-valued $epci) list the communes of each.
        const parent = this.interpolate(query.parent, options?.scopedVars, joinValues);
        return toMetricFindValues(await this.getTerritories('commune', parent));
      }
      case 'axes':
        return toMetricFindValues(await this.getAxes());
      case 'indicators': {
        const parent = this.interpolate(query.parent, options?.scopedVars, firstValue);
        const axis = parent === undefined ? 0 : Number(parent);
        const catalogue = await this.getCatalogue();
        return catalogue
          .filter((entry) => !Number.isFinite(axis) || axis === 0 || entry.axis === axis)
          .map((entry) => ({ text: entry.label, value: entry.id }));
      }
      default:
        return [];
    }
  }
}

function toMetricFindValues(items: TextValue[] | null | undefined): MetricFindValue[] {
  return (items ?? []).map((item) => ({ text: item.text, value: item.value }));
}

/** Template variables of this data source: EPCI, communes of an EPCI, axes, indicators. */
export class FneVariableSupport extends CustomVariableSupport<DataSource, FneVariableQuery, FneQuery, FneOptions> {
  constructor(private readonly datasource: DataSource) {
    super();
  }

  editor = VariableQueryEditor;

  query(request: DataQueryRequest<FneVariableQuery>): Observable<DataQueryResponse> {
    const target = request.targets[0];
    if (!target || !target.kind) {
      return from(Promise.resolve({ data: [] }));
    }
    return from(this.datasource.metricFindQuery(target, { scopedVars: request.scopedVars })).pipe(
      map((values) => ({ data: values }))
    );
  }
}
