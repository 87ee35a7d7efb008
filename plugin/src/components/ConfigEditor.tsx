/*
 * Data source settings: ClickHouse connection, TLS, timeouts and the territory scope. The password is a
 * secure field: Grafana never sends it back, the editor only knows whether one is configured.
 */
import React, { ChangeEvent } from 'react';

import { DataSourcePluginOptionsEditorProps } from '@grafana/data';
import { Field, FieldSet, Input, SecretInput, Switch } from '@grafana/ui';

import {
  DEFAULT_DATABASE,
  DEFAULT_DIAL_TIMEOUT,
  DEFAULT_PORT,
  DEFAULT_QUERY_TIMEOUT,
  FneOptions,
  FneSecureOptions,
} from '../types';

type Props = DataSourcePluginOptionsEditorProps<FneOptions, FneSecureOptions>;

const SCOPE_PATTERN = /^(dep:\d[0-9AB]|epci:\d{9}|com:[0-9AB]{5})?$/;

/** Positive integer from a number field; undefined when empty or invalid (the backend default applies). */
export function parsePositiveInt(raw: string): number | undefined {
  const trimmed = raw.trim();
  if (!/^\d+$/.test(trimmed)) {
    return undefined;
  }
  const n = Number(trimmed);
  return n > 0 ? n : undefined;
}

export function ConfigEditor({ options, onOptionsChange }: Props) {
  const jsonData = options.jsonData ?? {};
  const secureJsonFields = options.secureJsonFields ?? {};
  const secureJsonData = options.secureJsonData ?? {};

  const setJson = <K extends keyof FneOptions>(key: K, value: FneOptions[K]) => {
    onOptionsChange({ ...options, jsonData: { ...jsonData, [key]: value } });
  };
  const onText = (key: 'host' | 'database' | 'username' | 'scope') => (e: ChangeEvent<HTMLInputElement>) =>
    setJson(key, e.currentTarget.value.trim());
  const onNumber = (key: 'port' | 'dialTimeout' | 'queryTimeout') => (e: ChangeEvent<HTMLInputElement>) =>
    setJson(key, parsePositiveInt(e.currentTarget.value));

  const onPasswordChange = (e: ChangeEvent<HTMLInputElement>) => {
    onOptionsChange({ ...options, secureJsonData: { ...secureJsonData, password: e.currentTarget.value } });
  };
  const onPasswordReset = () => {
    onOptionsChange({
      ...options,
      secureJsonFields: { ...secureJsonFields, password: false },
      secureJsonData: { ...secureJsonData, password: '' },
    });
  };

  const scopeInvalid = !SCOPE_PATTERN.test(jsonData.scope ?? '');

  return (
    <>
      <FieldSet label="Connexion à ClickHouse">
        <Field label="Hôte" description="Nom ou adresse du serveur ClickHouse" required>
          <Input
            id="fne-host"
            value={jsonData.host ?? ''}
            placeholder="clickhouse.exemple.fr"
            onChange={onText('host')}
            width={40}
          />
        </Field>
        <Field label="Port" description={`Port du protocole natif (${DEFAULT_PORT} par défaut, souvent 9440 avec TLS)`}>
          <Input
            id="fne-port"
            type="number"
            value={jsonData.port ?? ''}
            placeholder={String(DEFAULT_PORT)}
            onChange={onNumber('port')}
            width={20}
          />
        </Field>
        <Field label="Base de données" description={`Base des indicateurs (« ${DEFAULT_DATABASE} » par défaut)`}>
          <Input
            id="fne-database"
            value={jsonData.database ?? ''}
            placeholder={DEFAULT_DATABASE}
            onChange={onText('database')}
            width={40}
          />
        </Field>
        <Field label="Utilisateur" description="Compte ClickHouse en lecture seule de préférence">
          <Input
            id="fne-username"
            value={jsonData.username ?? ''}
            placeholder="default"
            onChange={onText('username')}
            width={40}
          />
        </Field>
        <Field label="Mot de passe" description="Enregistré chiffré par Grafana, jamais réaffiché">
          <SecretInput
            id="fne-password"
            isConfigured={Boolean(secureJsonFields.password)}
            value={secureJsonData.password ?? ''}
            placeholder="Mot de passe"
            onChange={onPasswordChange}
            onReset={onPasswordReset}
            width={40}
          />
        </Field>
        <Field label="TLS" description="Chiffrer la connexion au serveur (port TLS du serveur)">
          <Switch id="fne-secure" value={Boolean(jsonData.secure)} onChange={(e) => setJson('secure', e.currentTarget.checked)} />
        </Field>
      </FieldSet>
      <FieldSet label="Délais">
        <Field label="Délai de connexion (s)" description={`Abandon si le serveur ne répond pas (${DEFAULT_DIAL_TIMEOUT} s par défaut)`}>
          <Input
            id="fne-dial-timeout"
            type="number"
            value={jsonData.dialTimeout ?? ''}
            placeholder={String(DEFAULT_DIAL_TIMEOUT)}
            onChange={onNumber('dialTimeout')}
            width={20}
          />
        </Field>
        <Field label="Délai de requête (s)" description={`Durée maximale d'une requête (${DEFAULT_QUERY_TIMEOUT} s par défaut)`}>
          <Input
            id="fne-query-timeout"
            type="number"
            value={jsonData.queryTimeout ?? ''}
            placeholder={String(DEFAULT_QUERY_TIMEOUT)}
            onChange={onNumber('queryTimeout')}
            width={20}
          />
        </Field>
      </FieldSet>
      <FieldSet label="Périmètre">
        <Field
          label="Territoire"
          description="Limiter la source à un territoire — organisation d'un EPCI : elle ne renverra rien en dehors (epci:200040566, com:69243). Vide : tout le département."
          invalid={scopeInvalid}
          error={scopeInvalid ? 'Identifiant attendu : dep:69, epci: suivi de 9 chiffres ou com: suivi de 5 caractères' : undefined}
        >
          <Input
            id="fne-scope"
            value={jsonData.scope ?? ''}
            placeholder="Tout le département"
            onChange={onText('scope')}
            width={40}
          />
        </Field>
      </FieldSet>
    </>
  );
}
