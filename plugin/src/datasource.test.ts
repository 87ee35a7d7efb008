import { DataQueryRequest, DataSourceInstanceSettings, ScopedVars } from '@grafana/data';
import { TemplateSrv } from '@grafana/runtime';
import { lastValueFrom } from 'rxjs';

import { DataSource, FneVariableSupport, firstValue, joinValues } from './datasource';
import { CatalogueEntry, FneOptions, FneQuery, FneVariableQuery } from './types';

// A template service that knows a few dashboard variables and, like Grafana's, hands the raw value
// (string, or array for a multi-value variable) to the format function.
const VARIABLES: Record<string, string | string[]> = {
  epci: 'epci:200040566',
  epcis: ['epci:200040566', 'epci:200046977'],
  ind: ['a2.accompagnements', 'a1.conseillers_actifs'],
  axe: '2',
  vide: '',
};

function fakeTemplateSrv(): TemplateSrv {
  return {
    getVariables: () => [],
    containsTemplate: (t?: string) => Boolean(t && t.includes('$')),
    updateTimeRange: () => undefined,
    replace: (target?: string, scopedVars?: ScopedVars, format?: string | Function) =>
      (target ?? '').replace(/\$\{?(\w+)\}?/g, (whole: string, name: string) => {
        const scoped = scopedVars?.[name]?.value;
        const value = scoped !== undefined ? scoped : VARIABLES[name];
        if (value === undefined) {
          return whole;
        }
        return typeof format === 'function' ? format(value) : String(value);
      }),
  } as unknown as TemplateSrv;
}

const settings = {
  id: 1,
  uid: 'fne',
  type: 'sdaasp-fneindicateurs-datasource',
  name: 'FNE',
  jsonData: {},
  meta: {},
  access: 'proxy',
  readOnly: false,
} as unknown as DataSourceInstanceSettings<FneOptions>;

const CATALOGUE: CatalogueEntry[] = [
  entry('a1.conseillers_actifs', 1, 'Conseillers numériques en activité'),
  entry('a2.accompagnements', 2, 'Accompagnements réalisés'),
  entry('a2.communes_hotspot', 2, "Communes avec au moins un point wifi libre d'accès"),
  entry('ctx.lieux', 0, "Lieux d'accompagnement au numérique"),
];

function entry(id: string, axis: number, label: string): CatalogueEntry {
  return { id, axis, action: '', label, definition: '', unit: '', levels: ['dep'], target: null, direction: 'hausse' };
}

function newDataSource() {
  const ds = new DataSource(settings, fakeTemplateSrv());
  const getResource = jest.spyOn(ds, 'getResource').mockImplementation(async (path: string, params?: unknown) => {
    switch (path) {
      case 'catalogue':
        return CATALOGUE;
      case 'axes':
        return [
          { text: 'Axe 1', value: 1 },
          { text: 'Axe 2', value: 2 },
        ];
      case 'territories': {
        const p = (params ?? {}) as Record<string, string>;
        if (p.level === 'epci') {
          return [{ text: 'CC de la Vallée du Garon', value: 'epci:200040566' }];
        }
        return [{ text: `communes de ${p.parent ?? 'tout'}`, value: 'com:69243' }];
      }
    }
    throw new Error(`unexpected resource ${path}`);
  });
  return { ds, getResource };
}

describe('multi-value formatting', () => {
  it('joins territories with commas and keeps the first indicator', () => {
    expect(joinValues(['epci:1', 'epci:2'])).toBe('epci:1,epci:2');
    expect(joinValues('dep:69')).toBe('dep:69');
    expect(firstValue(['a2.accompagnements', 'a1.conseillers_actifs'])).toBe('a2.accompagnements');
    expect(firstValue([])).toBe('');
    expect(firstValue('ctx.lieux')).toBe('ctx.lieux');
  });
});

describe('applyTemplateVariables', () => {
  const { ds } = newDataSource();

  it('interpolates territory (comma-joined) and indicator (first value)', () => {
    const q: FneQuery = { refId: 'A', queryType: 'series', indicator: '$ind', territory: '$epcis', axis: 2 };
    expect(ds.applyTemplateVariables(q, {})).toEqual({
      refId: 'A',
      queryType: 'series',
      indicator: 'a2.accompagnements',
      territory: 'epci:200040566,epci:200046977',
      axis: 2,
    });
  });

  it('uses scoped variables (repeated panels) before dashboard ones', () => {
    const q: FneQuery = { refId: 'B', queryType: 'scorecard', territory: '${epci}' };
    const scoped: ScopedVars = { epci: { text: 'CC Pays de l’Arbresle', value: 'epci:246900575' } };
    expect(ds.applyTemplateVariables(q, scoped).territory).toBe('epci:246900575');
  });

  it('fills the defaults the backend needs and drops fields that end up empty', () => {
    const q = { refId: 'C', territory: '$vide', indicator: '  ' } as FneQuery;
    expect(ds.applyTemplateVariables(q, {})).toEqual({
      refId: 'C',
      queryType: 'scorecard',
      axis: 0,
      territory: undefined,
      indicator: undefined,
    });
  });

  it('leaves literal ids and unknown variables untouched', () => {
    const q: FneQuery = { refId: 'D', queryType: 'breakdown', indicator: 'ctx.lieux', territory: '$inconnue', level: 'commune' };
    const out = ds.applyTemplateVariables(q, {});
    expect(out.indicator).toBe('ctx.lieux');
    expect(out.territory).toBe('$inconnue');
    expect(out.level).toBe('commune');
  });
});

describe('filterQuery', () => {
  const { ds } = newDataSource();
  it.each<[string, Partial<FneQuery>, boolean]>([
    ['series without indicator', { queryType: 'series', territory: 'dep:69' }, false],
    ['series with blank indicator', { queryType: 'series', indicator: ' ' }, false],
    ['series with indicator', { queryType: 'series', indicator: 'a2.accompagnements' }, true],
    ['breakdown without indicator', { queryType: 'breakdown', level: 'commune' }, false],
    ['breakdown with indicator', { queryType: 'breakdown', indicator: 'ctx.lieux' }, true],
    ['scorecard alone', { queryType: 'scorecard' }, true],
    ['gaps alone', { queryType: 'gaps' }, true],
    ['milestones', { queryType: 'milestones', axis: 2 }, true],
    ['freshness', { queryType: 'freshness' }, true],
    ['late indicators alert', { queryType: 'alert_late', level: 'epci' }, true],
    ['stale sources alert without delays', { queryType: 'alert_stale' }, false],
    ['stale sources alert', { queryType: 'alert_stale', staleAfter: { activites: '90m' } }, true],
    ['no type (default scorecard)', {}, true],
    ['unknown type', { queryType: 'carte' as FneQuery['queryType'] }, false],
    ['hidden query', { queryType: 'freshness', hide: true }, false],
  ])('%s → %s', (_name, q, expected) => {
    expect(ds.filterQuery({ refId: 'A', ...q } as FneQuery)).toBe(expected);
  });
});

describe('template variables', () => {
  it('lists the EPCI of the scope', async () => {
    const { ds, getResource } = newDataSource();
    const values = await ds.metricFindQuery({ refId: 'V', kind: 'epci' });
    expect(getResource).toHaveBeenCalledWith('territories', { level: 'epci' });
    expect(values).toEqual([{ text: 'CC de la Vallée du Garon', value: 'epci:200040566' }]);
  });

  it('lists the communes of the interpolated parent EPCI', async () => {
    const { ds, getResource } = newDataSource();
    const values = await ds.metricFindQuery({ refId: 'V', kind: 'communes', parent: '$epcis' });
    expect(getResource).toHaveBeenCalledWith('territories', {
      level: 'commune',
      parent: 'epci:200040566,epci:200046977',
    });
    expect(values).toEqual([{ text: 'communes de epci:200040566,epci:200046977', value: 'com:69243' }]);
  });

  it('lists the communes of the whole scope without parent', async () => {
    const { ds, getResource } = newDataSource();
    await ds.metricFindQuery({ refId: 'V', kind: 'communes' });
    expect(getResource).toHaveBeenCalledWith('territories', { level: 'commune' });
  });

  it('lists the axes', async () => {
    const { ds } = newDataSource();
    expect(await ds.metricFindQuery({ refId: 'V', kind: 'axes' })).toEqual([
      { text: 'Axe 1', value: 1 },
      { text: 'Axe 2', value: 2 },
    ]);
  });

  it('lists the indicators of one axis, or all of them', async () => {
    const { ds } = newDataSource();
    expect(await ds.metricFindQuery({ refId: 'V', kind: 'indicators', parent: '$axe' })).toEqual([
      { text: 'Accompagnements réalisés', value: 'a2.accompagnements' },
      { text: "Communes avec au moins un point wifi libre d'accès", value: 'a2.communes_hotspot' },
    ]);
    const all = await ds.metricFindQuery({ refId: 'V', kind: 'indicators', parent: '0' });
    expect(all.map((v) => v.value)).toEqual(['a1.conseillers_actifs', 'a2.accompagnements', 'a2.communes_hotspot', 'ctx.lieux']);
    expect(await ds.metricFindQuery({ refId: 'V', kind: 'indicators' })).toHaveLength(4);
  });

  it('answers variable queries through CustomVariableSupport', async () => {
    const { ds } = newDataSource();
    expect(ds.variables).toBeInstanceOf(FneVariableSupport);
    const support = ds.variables as FneVariableSupport;
    const request = { targets: [{ refId: 'V', kind: 'epci' }], scopedVars: {} } as unknown as DataQueryRequest<FneVariableQuery>;
    const response = await lastValueFrom(support.query(request));
    expect(response.data).toEqual([{ text: 'CC de la Vallée du Garon', value: 'epci:200040566' }]);

    const empty = { targets: [{ refId: 'V' }], scopedVars: {} } as unknown as DataQueryRequest<FneVariableQuery>;
    expect((await lastValueFrom(support.query(empty))).data).toEqual([]);
  });

  it('gives the default query of a new panel', () => {
    const { ds } = newDataSource();
    expect(ds.getDefaultQuery()).toEqual({ queryType: 'scorecard', axis: 0 });
  });
});
