/*
 * Query editor: the query type first, then only the fields that type uses (FIELDS_BY_TYPE). Catalogue
 * and territories come from the backend resources; the territory also accepts any free text so that a
 * dashboard variable ($epci) or an id not listed can be typed.
 */
import React, { useEffect, useMemo, useState } from 'react';

import { QueryEditorProps, SelectableValue } from '@grafana/data';
import { getTemplateSrv } from '@grafana/runtime';
import { InlineField, InlineFieldRow, RadioButtonGroup, Select } from '@grafana/ui';

import type { DataSource } from '../datasource';
import {
  BreakdownLevel,
  CatalogueEntry,
  DEFAULT_QUERY,
  FIELDS_BY_TYPE,
  FneOptions,
  FneQuery,
  LEVEL_OPTIONS,
  QUERY_TYPE_OPTIONS,
  QueryType,
  TextValue,
} from '../types';

type Props = QueryEditorProps<DataSource, FneQuery, FneOptions>;

export const AXIS_OPTIONS: Array<SelectableValue<number>> = [
  { value: 0, label: 'Tous' },
  { value: 1, label: 'Axe 1' },
  { value: 2, label: 'Axe 2' },
  { value: 3, label: 'Axe 3' },
];

const LABEL_WIDTH = 20;

/** Dashboard variables offered as territory or indicator choices ("$epci"). */
function variableOptions(): Array<SelectableValue<string>> {
  let names: string[] = [];
  try {
    names = getTemplateSrv()
      .getVariables()
      .map((v) => v.name);
  } catch {
    // No template service (outside a dashboard): no variable to offer.
  }
  return names.map((name) => ({ value: `$${name}`, label: `$${name}`, description: 'Variable du tableau de bord' }));
}

/** Keeps a typed value selectable even when no option carries it (variables, ids not yet listed). */
function withCurrent(options: Array<SelectableValue<string>>, current?: string): Array<SelectableValue<string>> {
  if (!current || options.some((o) => o.value === current)) {
    return options;
  }
  return [{ value: current, label: current }, ...options];
}

export function QueryEditor({ query, onChange, onRunQuery, datasource }: Props) {
  const queryType: QueryType = query.queryType ?? (DEFAULT_QUERY.queryType as QueryType);
  const axis = query.axis ?? 0;
  const fields = FIELDS_BY_TYPE[queryType] ?? FIELDS_BY_TYPE.scorecard;

  const [catalogue, setCatalogue] = useState<CatalogueEntry[]>([]);
  const [territories, setTerritories] = useState<TextValue[]>([]);
  const [loadError, setLoadError] = useState<string | undefined>();

  useEffect(() => {
    let cancelled = false;
    datasource
      .getCatalogue()
      .then((entries) => !cancelled && setCatalogue(entries ?? []))
      .catch(() => !cancelled && setLoadError('Catalogue des indicateurs indisponible'));
    // The scope and its children first, then every commune of the scope (the backend limits both).
    Promise.all([
      datasource.getTerritories().catch((): TextValue[] => []),
      datasource.getTerritories('commune').catch((): TextValue[] => []),
    ]).then(([top, communes]) => {
      if (!cancelled) {
        const seen = new Set<string>();
        setTerritories(
          [...(top ?? []), ...(communes ?? [])].filter((t) => !seen.has(String(t.value)) && seen.add(String(t.value)))
        );
      }
    });
    return () => {
      cancelled = true;
    };
  }, [datasource]);

  const indicatorOptions = useMemo(() => {
    const options: Array<SelectableValue<string>> = catalogue
      .filter((entry) => axis === 0 || entry.axis === axis)
      .map((entry) => ({
        value: entry.id,
        label: entry.label,
        description: `${entry.action ? `Action ${entry.action} · ` : ''}${entry.id}${entry.unit ? ` · ${entry.unit}` : ''}`,
      }));
    return withCurrent([...variableOptions(), ...options], query.indicator);
  }, [catalogue, axis, query.indicator]);

  const territoryOptions = useMemo(() => {
    const options: Array<SelectableValue<string>> = territories.map((t) => ({
      value: String(t.value),
      label: t.text,
      description: String(t.value),
    }));
    return withCurrent([...variableOptions(), ...options], query.territory);
  }, [territories, query.territory]);

  const change = (patch: Partial<FneQuery>) => {
    onChange({ ...query, queryType, axis, ...patch });
    onRunQuery();
  };

  const onTypeChange = (value: SelectableValue<QueryType>) => {
    if (!value.value) {
      return;
    }
    const next = FIELDS_BY_TYPE[value.value];
    // Fields the new type ignores are dropped so the saved query says what it does.
    change({
      queryType: value.value,
      indicator: next.indicator !== false ? query.indicator : undefined,
      territory: next.territory ? query.territory : undefined,
      level: next.level ? query.level : undefined,
      axis: next.axis ? axis : 0,
    });
  };

  const onAxisChange = (value: SelectableValue<number>) => {
    const nextAxis = value.value ?? 0;
    const current = catalogue.find((entry) => entry.id === query.indicator);
    // An indicator of another axis would no longer be listed: clear it rather than keep a hidden choice.
    const keepIndicator = !current || nextAxis === 0 || current.axis === nextAxis;
    change({ axis: nextAxis, indicator: keepIndicator ? query.indicator : undefined });
  };

  const selectedType = QUERY_TYPE_OPTIONS.find((o) => o.value === queryType);

  return (
    <div>
      <InlineFieldRow>
        <InlineField label="Type de requête" labelWidth={LABEL_WIDTH} tooltip={selectedType?.description}>
          <Select
            inputId="fne-query-type"
            aria-label="Type de requête"
            options={QUERY_TYPE_OPTIONS}
            value={queryType}
            onChange={onTypeChange}
            width={36}
          />
        </InlineField>
        {fields.axis && (
          <InlineField label="Axe" labelWidth={8} tooltip="Axe de la feuille de route ; « Tous » pour les trois">
            <Select
              inputId="fne-axis"
              aria-label="Axe"
              options={AXIS_OPTIONS}
              value={axis}
              onChange={onAxisChange}
              width={16}
            />
          </InlineField>
        )}
      </InlineFieldRow>
      {(fields.indicator !== false || fields.territory) && (
        <InlineFieldRow>
          {fields.indicator !== false && (
            <InlineField
              label="Indicateur"
              labelWidth={LABEL_WIDTH}
              invalid={Boolean(loadError) || (fields.indicator === 'required' && !query.indicator)}
              error={loadError ?? 'Indicateur obligatoire pour ce type de requête'}
              tooltip={
                fields.indicator === 'required'
                  ? "Indicateur du catalogue (filtré par l'axe choisi)"
                  : "Facultatif : ne garder qu'un indicateur"
              }
            >
              <Select
                inputId="fne-indicator"
                aria-label="Indicateur"
                placeholder={fields.indicator === 'required' ? 'Choisir un indicateur' : 'Tous les indicateurs'}
                isClearable={fields.indicator === 'optional'}
                options={indicatorOptions}
                value={query.indicator ?? null}
                onChange={(v) => change({ indicator: v?.value || undefined })}
                allowCustomValue
                width={48}
                noOptionsMessage="Aucun indicateur"
              />
            </InlineField>
          )}
          {fields.territory && (
            <InlineField
              label="Territoire"
              labelWidth={12}
              tooltip="Identifiant (dep:69, epci:200040566, com:69243) ou variable ($epci). Vide : le territoire de la source."
            >
              <Select
                inputId="fne-territory"
                aria-label="Territoire"
                placeholder="Territoire de la source"
                options={territoryOptions}
                value={query.territory ?? null}
                onChange={(v) => change({ territory: v?.value || undefined })}
                allowCustomValue
                isClearable
                width={40}
                formatCreateLabel={(input: string) => `Utiliser « ${input} »`}
                noOptionsMessage="Aucun territoire"
              />
            </InlineField>
          )}
        </InlineFieldRow>
      )}
      {fields.level && (
        <InlineFieldRow>
          <InlineField
            label="Niveau"
            labelWidth={LABEL_WIDTH}
            tooltip="Territoires listés : EPCI du département, ou communes de l'EPCI"
          >
            <RadioButtonGroup<BreakdownLevel>
              options={LEVEL_OPTIONS}
              value={query.level}
              onChange={(level) => change({ level })}
            />
          </InlineField>
        </InlineFieldRow>
      )}
    </div>
  );
}
