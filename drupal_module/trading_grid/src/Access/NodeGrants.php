<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Access;

use Drupal\Core\Session\AccountInterface;
use Drupal\node\NodeInterface;
use Drupal\trading_grid\Store\OrganisationRegistry;

/**
 * Node access grants for trading issues and controlled documents.
 *
 * hook_node_access() guards one node at a time; listings (Views, entity
 * queries with access checks, search) only see the {node_access} table. These
 * grants write the same audience as Audience gives NodeAccess into that table:
 * - hook_node_access_records(): a trading issue or an addressed document gets a
 *   view grant for the staff (realm trading_grid_staff, grant id 1) and, while
 *   published, one per audience key. Grant ids are OrganisationRegistry ids of
 *   the key's name: the organisation name itself, "type:<partner type>",
 *   "community:<community id>", or for keys limited to an organisation
 *   "org:<organisation id>/type:…" and "org:<organisation id>/community:…".
 *   Other nodes (and documents addressed to nobody) get no records, so Drupal
 *   gives them its default grant, as before.
 * - hook_node_grants(): the staff hold trading_grid_staff 1; an active member
 *   holds the ids of its keys. Ids are only looked up here, never created: a
 *   name no node was ever addressed to has no id and matches nothing.
 * Only "view" is granted; editing stays with Drupal's node permissions.
 */
final class NodeGrants {

  public function __construct(
    private readonly Audience $audience,
    private readonly PartnerContext $partners,
    private readonly OrganisationRegistry $registry,
  ) {}

  /**
   * hook_node_access_records(): the grants of a node.
   *
   * Before the module's update created the registry table, a restricted node
   * gets the staff grant only (never a wider one); the update asks for the
   * content access rebuild that gives it its audience.
   *
   * @return list<array{realm: string, gid: int, grant_view: int, grant_update: int, grant_delete: int, langcode: string}>
   *   Grant records, one set per translation (each keeps its own published
   *   status); empty for a node this module does not restrict.
   */
  public function records(NodeInterface $node): array {
    $keys = $this->audience->ofNode($node);
    if ($keys === NULL) {
      return [];
    }
    try {
      $gids = $this->allocate($keys);
    }
    catch (\PDOException $e) {
      if (!OrganisationRegistry::isMissingTable($e)) {
        throw $e;
      }
      $gids = [];
    }
    $records = [];
    foreach (array_keys($node->getTranslationLanguages()) as $langcode) {
      $langcode = (string) $langcode;
      $records[] = self::record(Audience::STAFF, Audience::STAFF_GID, $langcode);
      if (!$node->getTranslation($langcode)->isPublished()) {
        continue;
      }
      foreach ($gids as [$realm, $gid]) {
        $records[] = self::record($realm, $gid, $langcode);
      }
    }
    return $records;
  }

  /**
   * hook_node_grants(): the grant ids an account holds, by realm.
   *
   * @return array<string, list<int>>
   *   Realm => grant ids; empty for accounts that hold none.
   */
  public function grants(AccountInterface $account, string $operation): array {
    if ($operation !== 'view') {
      return [];
    }
    if ($this->partners->seesEverything($account)) {
      return [Audience::STAFF => [Audience::STAFF_GID]];
    }
    $keys = $this->audience->ofAccount($account);
    if ($keys === []) {
      return [];
    }
    try {
      return $this->lookUp($keys);
    }
    catch (\PDOException $e) {
      // No registry table yet (update pending): no partner grant at all.
      if (!OrganisationRegistry::isMissingTable($e)) {
        throw $e;
      }
      return [];
    }
  }

  /**
   * The grant ids of an account's keys, by realm.
   *
   * @param list<array{0: string, 1: string, 2: string}> $keys
   *   Keys [realm, name, scope].
   *
   * @return array<string, list<int>>
   *   Realm => grant ids.
   */
  private function lookUp(array $keys): array {
    // First the plain names and the organisations that scope the others, then
    // the scoped names, which contain their organisation's id.
    $plain = [];
    foreach ($keys as [, $name, $scope]) {
      $plain[] = $scope === '' ? $name : $scope;
    }
    $ids = $this->registry->findAll($plain);
    $scoped = [];
    foreach ($keys as [, $name, $scope]) {
      if ($scope !== '' && isset($ids[$scope])) {
        $scoped[] = self::scopedName($ids[$scope], $name);
      }
    }
    $ids += $this->registry->findAll($scoped);
    $grants = [];
    foreach ($keys as [$realm, $name, $scope]) {
      if ($scope !== '') {
        $name = isset($ids[$scope]) ? self::scopedName($ids[$scope], $name) : NULL;
      }
      if ($name !== NULL && isset($ids[$name])) {
        $grants[$realm][$ids[$name]] = $ids[$name];
      }
    }
    ksort($grants);
    return array_map(static function (array $gids): array {
      sort($gids);
      return $gids;
    }, $grants);
  }

  /**
   * Gives every key of a node its grant id.
   *
   * Names are given ids in a fixed order (the organisation first, then by
   * name), so two saves that add the same new names never wait on each other
   * in opposite orders.
   *
   * @param list<array{0: string, 1: string, 2: string}> $keys
   *   Keys [realm, name, scope].
   *
   * @return list<array{0: string, 1: int}>
   *   [realm, grant id] pairs.
   */
  private function allocate(array $keys): array {
    $organisations = [];
    foreach ($keys as [, , $scope]) {
      if ($scope !== '') {
        $organisations[$scope] = TRUE;
      }
    }
    $orgIds = [];
    foreach (array_keys($organisations) as $organisation) {
      $orgIds[$organisation] = $this->registry->idFor((string) $organisation);
    }
    $named = [];
    foreach ($keys as [$realm, $name, $scope]) {
      $named[] = [$realm, $scope === '' ? $name : self::scopedName($orgIds[$scope], $name)];
    }
    usort($named, static fn (array $a, array $b): int => strcmp($a[1], $b[1]) ?: strcmp($a[0], $b[0]));
    $gids = [];
    foreach ($named as [$realm, $name]) {
      $gids[] = [$realm, $this->registry->idFor($name)];
    }
    return $gids;
  }

  /**
   * The registry name of a key limited to one organisation.
   *
   * Plain names of the partner type and community realms start with "type:" or
   * "community:", scoped ones with "org:", so no value a partner writes on its
   * account can spell another organisation's scoped name.
   */
  private static function scopedName(int $organisationId, string $name): string {
    return 'org:' . $organisationId . '/' . $name;
  }

  /**
   * One view grant record.
   *
   * @return array{realm: string, gid: int, grant_view: int, grant_update: int, grant_delete: int, langcode: string}
   *   The record.
   */
  private static function record(string $realm, int $gid, string $langcode): array {
    return [
      'realm' => $realm,
      'gid' => $gid,
      'grant_view' => 1,
      'grant_update' => 0,
      'grant_delete' => 0,
      'langcode' => $langcode,
    ];
  }

}
