import React from 'react';

import { DataSourceSettings } from '@grafana/data';
import { fireEvent, render, screen } from '@testing-library/react';

import { FneOptions, FneSecureOptions } from '../types';
import { ConfigEditor, parsePositiveInt } from './ConfigEditor';

type Settings = DataSourceSettings<FneOptions, FneSecureOptions>;

function settings(overrides: Partial<Settings> = {}): Settings {
  return {
    id: 1,
    uid: 'fne',
    orgId: 1,
    name: 'FNE',
    type: 'sdaasp-fneindicateurs-datasource',
    typeName: 'FNE',
    typeLogoUrl: '',
    access: 'proxy',
    url: '',
    user: '',
    database: '',
    basicAuth: false,
    basicAuthUser: '',
    isDefault: false,
    withCredentials: false,
    readOnly: false,
    version: 1,
    jsonData: { host: 'ch.local', port: 9000, database: 'fne', username: 'lecteur', secure: false },
    secureJsonFields: {},
    ...overrides,
  } as Settings;
}

function setup(options: Settings) {
  const onOptionsChange = jest.fn();
  render(<ConfigEditor options={options} onOptionsChange={onOptionsChange} />);
  return { onOptionsChange };
}

describe('ConfigEditor', () => {
  it('shows the French sections and fields with the saved values', () => {
    setup(settings({ jsonData: { host: 'ch.local', port: 9440, database: 'fne', username: 'lecteur', secure: true, dialTimeout: 5, queryTimeout: 30, scope: 'epci:200040566' } }));
    // A required field's label is followed by " *".
    expect(screen.getByText(/^Hôte/)).toBeInTheDocument();
    for (const label of ['Connexion à ClickHouse', 'Port', 'Base de données', 'Utilisateur', 'Mot de passe', 'TLS', 'Délais', 'Délai de connexion (s)', 'Délai de requête (s)', 'Périmètre', 'Territoire']) {
      expect(screen.getByText(label)).toBeInTheDocument();
    }
    expect(screen.getByText(/Limiter la source à un territoire — organisation d'un EPCI/)).toBeInTheDocument();
    expect(document.getElementById('fne-host')).toHaveValue('ch.local');
    expect(document.getElementById('fne-port')).toHaveValue(9440);
    expect(document.getElementById('fne-dial-timeout')).toHaveValue(5);
    expect(document.getElementById('fne-query-timeout')).toHaveValue(30);
    expect(document.getElementById('fne-scope')).toHaveValue('epci:200040566');
    expect(document.getElementById('fne-secure')).toBeChecked();
  });

  it('writes text settings into jsonData, trimmed, keeping the others', () => {
    const { onOptionsChange } = setup(settings());
    fireEvent.change(document.getElementById('fne-host')!, { target: { value: ' clickhouse.rhone.fr ' } });
    const next = onOptionsChange.mock.calls[0][0] as Settings;
    expect(next.jsonData).toEqual({ host: 'clickhouse.rhone.fr', port: 9000, database: 'fne', username: 'lecteur', secure: false });
    expect(next.secureJsonData).toBeUndefined();
  });

  it('writes numbers as numbers, and nothing for an invalid one', () => {
    const { onOptionsChange } = setup(settings({ jsonData: { port: 9000, dialTimeout: 5 } }));
    fireEvent.change(document.getElementById('fne-port')!, { target: { value: '9440' } });
    expect(onOptionsChange.mock.calls[0][0].jsonData.port).toBe(9440);
    fireEvent.change(document.getElementById('fne-query-timeout')!, { target: { value: '120' } });
    expect(onOptionsChange.mock.calls[1][0].jsonData.queryTimeout).toBe(120);
    fireEvent.change(document.getElementById('fne-dial-timeout')!, { target: { value: '' } });
    expect(onOptionsChange.mock.calls[2][0].jsonData.dialTimeout).toBeUndefined();
  });

  it('parsePositiveInt', () => {
    expect(parsePositiveInt('9000')).toBe(9000);
    expect(parsePositiveInt(' 15 ')).toBe(15);
    expect(parsePositiveInt('0')).toBeUndefined();
    expect(parsePositiveInt('-3')).toBeUndefined();
    expect(parsePositiveInt('1.5')).toBeUndefined();
    expect(parsePositiveInt('')).toBeUndefined();
  });

  it('toggles TLS', () => {
    const { onOptionsChange } = setup(settings());
    fireEvent.click(document.getElementById('fne-secure')!);
    expect(onOptionsChange.mock.calls[0][0].jsonData.secure).toBe(true);
  });

  it('sends a new password only in secureJsonData', () => {
    const { onOptionsChange } = setup(settings());
    const input = document.getElementById('fne-password') as HTMLInputElement;
    expect(input).toHaveAttribute('type', 'password');
    fireEvent.change(input, { target: { value: 's3cret' } });
    const next = onOptionsChange.mock.calls[0][0] as Settings;
    expect(next.secureJsonData).toEqual({ password: 's3cret' });
    expect(JSON.stringify(next.jsonData)).not.toContain('s3cret');
  });

  it('never shows a configured password, and resets it on request', () => {
    const { onOptionsChange } = setup(settings({ secureJsonFields: { password: true } }));
    const input = document.getElementById('fne-password') as HTMLInputElement;
    expect(input).toBeDisabled();
    expect(input).not.toHaveAttribute('type', 'password');
    expect(input.value).not.toContain('s3cret');
    fireEvent.click(screen.getByRole('button', { name: 'Reset' }));
    const next = onOptionsChange.mock.calls[0][0] as Settings;
    expect(next.secureJsonFields).toEqual({ password: false });
    expect(next.secureJsonData).toEqual({ password: '' });
  });

  it('flags a scope that is not a territory id, in French', () => {
    setup(settings({ jsonData: { scope: 'Vallée du Garon' } }));
    expect(screen.getByText(/Identifiant attendu : dep:69/)).toBeInTheDocument();
  });

  it('accepts an EPCI scope without error', () => {
    setup(settings({ jsonData: { scope: 'epci:200040566' } }));
    expect(screen.queryByText(/Identifiant attendu/)).not.toBeInTheDocument();
  });
});
