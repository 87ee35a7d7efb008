/*
 * Query, settings and resource types of the FNE indicators data source. They mirror the JSON the Go
 * backend (plugin/pkg) reads and writes, field for field (DESIGN §5): change both together.
 */
import { DataQuery, DataSourceJsonData, SelectableValue } from '@grafana/data';

export type QueryType =
  | 'series'
  | 'scorecard'
  | 'breakdown'
  | 'gaps'
  | 'milestones'
  | 'freshness'
  | 'axes'
  | 'changes'
  | 'alert_late'
  | 'alert_stale';

export type BreakdownLevel = 'epci' | 'commune';

export interface FneQuery extends DataQuery {
  queryType: QueryType;
  /** Indicator id from the catalogue, e.g. "a1.conseillers_actifs". */
  indicator?: string;
  /** Territory id (dep:69, epci:200040566, com:69243) or a dashboard variable ($epci). */
  territory?: string;
  /** Roadmap axis 1..3; 0 = every axis. */
  axis?: number;
  /** Level of the children listed by a breakdown, or of the territories a gaps query keeps. */
  level?: BreakdownLevel;
  /** Milestones: keep those not done that are late or due within this many months (0 = all). */
  dueWithin?: number;
  /** "epci": an empty territory means the scope's EPCI, else the first EPCI (never the département). */
  defaultLevel?: 'epci';
  /** alert_stale: stale_after of each watched source, Go durations ("90m", "72h"). */
  staleAfter?: Record<string, string>;
}

export const DEFAULT_QUERY: Partial<FneQuery> = {
  queryType: 'scorecard',
  axis: 0,
};

export interface FneOptions extends DataSourceJsonData {
  host?: string;
  /** Native protocol port. */
  port?: number;
  database?: string;
  username?: string;
  /** TLS to ClickHouse. */
  secure?: boolean;
  /** Seconds. */
  dialTimeout?: number;
  /** Seconds. */
  queryTimeout?: number;
  /** Territory the data source is limited to; empty = the whole département. */
  scope?: string;
}

export interface FneSecureOptions {
  password?: string;
}

export const DEFAULT_PORT = 9000;
export const DEFAULT_DATABASE = 'fne';
export const DEFAULT_DIAL_TIMEOUT = 10;
export const DEFAULT_QUERY_TIMEOUT = 60;

/** One entry of the `catalogue` resource. */
export interface CatalogueEntry {
  id: string;
  axis: number;
  action: string;
  label: string;
  definition: string;
  unit: string;
  levels: string[];
  target: number | null;
  direction: string;
  /** Who set the target: 'feuille_de_route' (a roadmap commitment), 'copil' (a default), '' for context. */
  target_origin?: string;
}

/** Items of the `axes` and `territories` resources. */
export interface TextValue {
  text: string;
  value: string | number;
}

export type VariableKind = 'epci' | 'communes' | 'axes' | 'indicators';

/**
 * Query model of the data source's template variables ({kind, parent?}; Grafana adds the refId every
 * query of a CustomVariableSupport carries).
 */
export interface FneVariableQuery extends DataQuery {
  kind: VariableKind;
  /** communes: the EPCI (id or $variable) whose communes are listed; indicators: an axis (1..3 or $variable). */
  parent?: string;
}

export const QUERY_TYPE_OPTIONS: Array<SelectableValue<QueryType>> = [
  {
    value: 'series',
    label: 'Série mensuelle',
    description: 'Un indicateur, un point par mois de la période affichée, avec sa cible',
  },
  {
    value: 'scorecard',
    label: 'Tableau de bord par axe',
    description: 'Tous les indicateurs (ou ceux d’un axe) évalués pour le mois de fin de période',
  },
  {
    value: 'breakdown',
    label: 'Répartition par territoire',
    description: 'Un indicateur décliné sur les EPCI ou les communes du territoire',
  },
  {
    value: 'gaps',
    label: 'Écarts aux cibles',
    description: 'Territoires qui n’atteignent pas une cible (pas de wifi, loin d’un lieu…)',
  },
  {
    value: 'milestones',
    label: 'Jalons',
    description: 'Jalons de la feuille de route et leur avancement',
  },
  {
    value: 'freshness',
    label: 'Fraîcheur des données',
    description: 'Dernière collecte réussie et dernière donnée de chaque source',
  },
  {
    value: 'axes',
    label: 'Statuts par axe',
    description: 'Nombre d’indicateurs de chaque axe dans chaque statut, du plus préoccupant au meilleur',
  },
  {
    value: 'changes',
    label: 'Changements de statut',
    description: 'Indicateurs dont le statut a changé depuis le mois précédent',
  },
  {
    value: 'alert_late',
    label: 'Alerte : indicateurs en retard',
    description: 'Pour l’alerting : 1 par territoire et indicateur « en retard », sinon 0 (territoire et ses EPCI ou communes)',
  },
  {
    value: 'alert_stale',
    label: 'Alerte : sources périmées',
    description: 'Pour l’alerting : 1 par source sans collecte réussie dans son délai (staleAfter, dans le JSON de la règle)',
  },
];

export const LEVEL_OPTIONS: Array<SelectableValue<BreakdownLevel>> = [
  { value: 'epci', label: 'EPCI' },
  { value: 'commune', label: 'Communes' },
];

/**
 * Which editor fields a query type uses, as the backend reads them: the axis filters the scorecard, gaps
 * and milestones (and the indicator picker); the indicator is required by series and breakdown, an
 * optional filter of scorecard and gaps; milestones and freshness ignore the territory.
 */
export interface TypeFields {
  axis: boolean;
  indicator: 'required' | 'optional' | false;
  territory: boolean;
  level: boolean;
}

export const FIELDS_BY_TYPE: Record<QueryType, TypeFields> = {
  series: { axis: true, indicator: 'required', territory: true, level: false },
  scorecard: { axis: true, indicator: 'optional', territory: true, level: false },
  breakdown: { axis: true, indicator: 'required', territory: true, level: true },
  gaps: { axis: true, indicator: 'optional', territory: true, level: false },
  milestones: { axis: true, indicator: false, territory: false, level: false },
  freshness: { axis: false, indicator: false, territory: false, level: false },
  axes: { axis: true, indicator: false, territory: true, level: false },
  changes: { axis: true, indicator: 'optional', territory: true, level: false },
  alert_late: { axis: true, indicator: 'optional', territory: true, level: true },
  alert_stale: { axis: false, indicator: false, territory: false, level: false },
};
