<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Access;

use Drupal\Core\Session\AccountInterface;
use Drupal\node\NodeInterface;

/**
 * Who may view a trading issue or a controlled document, in one place.
 *
 * A node's audience and an account's memberships are both lists of keys; an
 * account may view the node when the two lists share a key (staff see every
 * node). NodeAccess compares the keys directly for hook_node_access() and the
 * partner routes; NodeGrants turns the same keys into node access grants, so a
 * listing (Views, entity queries with access checks, search) shows a partner
 * exactly the nodes its pages let it open.
 *
 * A key is [realm, name, scope]: the node access realm, a name, and the
 * organisation the name is limited to ('' for none).
 * - Trading issue of organisation O: [ORGANISATION, O, ''], held by the active
 *   members of O who may view their organisation's trading issues.
 * - Document addressed to organisation O and nobody else in particular:
 *   [MEMBER, O, ''], held by every active member of O.
 * - Document addressed to partner type T or community C: [PARTNER_TYPE,
 *   'type:T', ''] or [COMMUNITY, 'community:C', ''], held by the active members
 *   (of any organisation) whose account names T or C; when the document is also
 *   addressed to organisation O, the keys are scoped to O and only O's active
 *   members of that type or community hold them.
 * - Document addressed to nobody: no keys (NULL); Drupal's own rules apply, as
 *   for every other node.
 * Accounts that are not active members hold no keys (PartnerContext).
 */
final class Audience {

  /**
   * Realm of the staff: every trading issue and addressed document.
   */
  public const STAFF = 'trading_grid_staff';

  /**
   * Realm of an organisation's trading issues.
   */
  public const ORGANISATION = 'trading_grid_organisation';

  /**
   * Realm of the documents addressed to one organisation as a whole.
   */
  public const MEMBER = 'trading_grid_member';

  /**
   * Realm of the documents addressed to partner types.
   */
  public const PARTNER_TYPE = 'trading_grid_partner_type';

  /**
   * Realm of the documents addressed to communities.
   */
  public const COMMUNITY = 'trading_grid_community';

  /**
   * Every realm of this module.
   */
  public const REALMS = [self::STAFF, self::ORGANISATION, self::MEMBER, self::PARTNER_TYPE, self::COMMUNITY];

  /**
   * The one grant id of the staff realm.
   */
  public const STAFF_GID = 1;

  /**
   * Longest partner type or community id, in characters, that can be a key.
   *
   * Scoped keys become registry names of up to "org:<id>/community:" plus this
   * many characters, within the registry's 255. A longer value matches nobody.
   */
  public const MAX_VALUE_LENGTH = 200;

  /**
   * The permission that lets an active member view its organisation's issues.
   */
  public const VIEW_ISSUES = 'view own organisation trading issues';

  public function __construct(private readonly PartnerContext $partners) {}

  /**
   * The audience of a node, besides the staff.
   *
   * @return list<array{0: string, 1: string, 2: string}>|null
   *   Keys [realm, name, scope]; an empty list when only the staff may view
   *   the node (an issue without organisation); NULL when this module does not
   *   restrict the node (not an issue or a document, or a document addressed to
   *   nobody in particular).
   */
  public function ofNode(NodeInterface $node): ?array {
    $bundle = $node->bundle();
    if ($bundle === NodeAccess::ISSUE) {
      $organisation = self::text($node, 'field_tg_organisation');
      return $organisation === '' ? [] : [[self::ORGANISATION, $organisation, '']];
    }
    if ($bundle !== NodeAccess::DOCUMENT) {
      return NULL;
    }
    $organisation = self::text($node, 'field_tg_organisation');
    $types = self::values($node, 'field_tg_partner_types');
    $communities = self::values($node, 'field_tg_communities');
    if ($types === [] && $communities === []) {
      return $organisation === '' ? NULL : [[self::MEMBER, $organisation, '']];
    }
    // Values too long to be keys reach nobody; they still count as an audience,
    // so the document never falls back to "everybody" because of them.
    $keys = [];
    foreach ($types as $type) {
      if (self::usable($type)) {
        $keys[] = [self::PARTNER_TYPE, 'type:' . $type, $organisation];
      }
    }
    foreach ($communities as $community) {
      if (self::usable($community)) {
        $keys[] = [self::COMMUNITY, 'community:' . $community, $organisation];
      }
    }
    return $keys;
  }

  /**
   * The keys an account holds (none unless it is an active member).
   *
   * @return list<array{0: string, 1: string, 2: string}>
   *   Keys [realm, name, scope].
   */
  public function ofAccount(AccountInterface $account): array {
    $organisation = $this->partners->organisation($account);
    if ($organisation === '') {
      return [];
    }
    $keys = [[self::MEMBER, $organisation, '']];
    if ($account->hasPermission(self::VIEW_ISSUES)) {
      $keys[] = [self::ORGANISATION, $organisation, ''];
    }
    $type = $this->partners->partnerType($account);
    if ($type !== '' && self::usable($type)) {
      $keys[] = [self::PARTNER_TYPE, 'type:' . $type, ''];
      $keys[] = [self::PARTNER_TYPE, 'type:' . $type, $organisation];
    }
    foreach ($this->partners->communities($account) as $community) {
      if (self::usable($community)) {
        $keys[] = [self::COMMUNITY, 'community:' . $community, ''];
        $keys[] = [self::COMMUNITY, 'community:' . $community, $organisation];
      }
    }
    return $keys;
  }

  /**
   * Whether two lists of keys share one.
   *
   * @param list<array{0: string, 1: string, 2: string}> $a
   *   Keys.
   * @param list<array{0: string, 1: string, 2: string}> $b
   *   Keys.
   */
  public static function shareAKey(array $a, array $b): bool {
    $held = [];
    foreach ($b as $key) {
      $held[self::id($key)] = TRUE;
    }
    foreach ($a as $key) {
      if (isset($held[self::id($key)])) {
        return TRUE;
      }
    }
    return FALSE;
  }

  /**
   * One string per key, unambiguous (JSON of the triple).
   *
   * @param array{0: string, 1: string, 2: string} $key
   *   A key.
   */
  private static function id(array $key): string {
    return json_encode(array_values($key), JSON_THROW_ON_ERROR | JSON_UNESCAPED_UNICODE);
  }

  /**
   * Whether a partner type or community id can be a key.
   */
  private static function usable(string $value): bool {
    return mb_strlen($value, 'UTF-8') <= self::MAX_VALUE_LENGTH;
  }

  /**
   * The trimmed value of a single-valued text field; '' when missing or empty.
   */
  private static function text(NodeInterface $node, string $field): string {
    return $node->hasField($field) ? trim((string) $node->get($field)->value) : '';
  }

  /**
   * The trimmed, non-empty values of a multi-valued text field.
   *
   * @return string[]
   *   Values without repeats.
   */
  private static function values(NodeInterface $node, string $field): array {
    if (!$node->hasField($field)) {
      return [];
    }
    $values = [];
    foreach ($node->get($field) as $item) {
      $value = trim((string) $item->value);
      if ($value !== '') {
        $values[$value] = $value;
      }
    }
    return array_values($values);
  }

}
